/**
 * The genesis file a consortium publishes and every node loads (named by `genesis` in network.json):
 * JSON that a person can read the main facts from, carrying the canonical genesis bytes and, for a
 * founded consortium, the founding transcript that yields them. Decoding checks the stated hash, the
 * genesis rules and, when there is a transcript, every founder's signature and proof (founding.ts), so
 * a node never starts on a genesis it was not handed intact.
 */
import { base64 } from '@scure/base';
import { bytesToHex } from './bytes.ts';
import { ensure, ValidationError } from './errors.ts';
import { decodeFounding, encodeFounding, verifyFounding, type FoundingTranscript } from './founding.ts';
import {
	decodeGenesis,
	encodeGenesis,
	genesisFingerprint,
	genesisHash,
	type GenesisConfig
} from './genesis.ts';

export const GENESIS_FILE_FORMAT = 'spchain-genesis/1';
/** A genesis file is small (hundreds of founders at most); anything larger is not one. */
export const MAX_GENESIS_FILE = 4 * 1024 * 1024;

export interface GenesisFile {
	genesis: GenesisConfig;
	founding?: FoundingTranscript;
}

interface GenesisFileJson {
	format: string;
	network: string;
	hash: string;
	fingerprint: string;
	institutions: string[];
	genesis: string;
	founding?: string;
}

export function encodeGenesisFile(file: GenesisFile): string {
	if (file.founding) verifyFounding(file.genesis, file.founding);
	const json: GenesisFileJson = {
		format: GENESIS_FILE_FORMAT,
		network: file.genesis.network,
		hash: bytesToHex(genesisHash(file.genesis)),
		fingerprint: genesisFingerprint(file.genesis),
		institutions: file.genesis.institutions.map((i) => `${i.name} ${bytesToHex(i.id)}`),
		genesis: base64.encode(encodeGenesis(file.genesis)),
		...(file.founding ? { founding: base64.encode(encodeFounding(file.founding)) } : {})
	};
	return JSON.stringify(json, null, '\t') + '\n';
}

/** Parses and checks a genesis file; every failure is a ValidationError saying what is wrong. */
export function decodeGenesisFile(text: string): GenesisFile {
	ensure(
		typeof text === 'string' && text.length <= MAX_GENESIS_FILE,
		'genesis-file',
		'not a genesis file (too large)'
	);
	let json: Partial<GenesisFileJson>;
	try {
		json = JSON.parse(text);
	} catch {
		throw new ValidationError('genesis-file', 'the genesis file is not JSON');
	}
	ensure(
		json && json.format === GENESIS_FILE_FORMAT,
		'genesis-file',
		`not a genesis file (format is not ${GENESIS_FILE_FORMAT})`
	);
	ensure(
		typeof json.genesis === 'string' && typeof json.hash === 'string',
		'genesis-file',
		'the genesis file lacks its genesis or hash'
	);
	const genesis = decodeGenesis(fromBase64(json.genesis, 'genesis'));
	ensure(
		bytesToHex(genesisHash(genesis)) === json.hash.toLowerCase(),
		'genesis-file-hash',
		'the genesis does not have the hash the file states: the file was altered'
	);
	ensure(
		json.founding === undefined || typeof json.founding === 'string',
		'genesis-file',
		'the founding transcript must be base64 text'
	);
	const founding =
		json.founding === undefined ? undefined : decodeFounding(fromBase64(json.founding, 'founding'));
	if (founding) verifyFounding(genesis, founding);
	return { genesis, founding };
}

function fromBase64(text: string, what: string): Uint8Array {
	try {
		return base64.decode(text);
	} catch {
		throw new ValidationError('genesis-file', `the ${what} in the genesis file is not base64`);
	}
}
