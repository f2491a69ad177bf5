import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Ledger } from './chain.ts';
import { ValidationError } from './errors.ts';
import {
	checkPatientBlock,
	decodePatientBlock,
	encodePatientBlock,
	patientBlockHash,
	readPatientBlockHeader
} from './patient-block.ts';
import { encodeCanonical, decodeCanonical } from './encoding.ts';
import {
	clinics,
	expectOnlyValidationErrors,
	mineNext,
	patientKeys,
	registerTx,
	testGenesis
} from '../../../tests/fixtures/chain.ts';

const genesis = testGenesis();
const aster = clinics[0]!;
const NOW = Date.UTC(2030, 0, 1);

function created() {
	const ledger = new Ledger(genesis);
	const [block] = ledger.appendKeyblock(
		mineNext(ledger, aster, [registerTx(genesis, patientKeys('alice'), aster, 1)]),
		NOW
	);
	return block!;
}

describe('patient block', () => {
	it('is created with one empty leaf per institution, needs no proofs, and round-trips', () => {
		const block = created();
		expect(block.leaves.map((l) => l.institution)).toEqual(genesis.institutions.map((i) => i.id));
		expect(checkPatientBlock(block, genesis.institutions)).toEqual([]);
		const bytes = encodePatientBlock(block);
		expect(decodePatientBlock(bytes, 16)).toEqual(block);
	});

	it('detects a flipped bit in every header byte (hash or root changes, or the field is malformed)', () => {
		const block = created();
		const header = encodeCanonical({ ...block.header });
		const hash = patientBlockHash(block.header);
		for (let i = 0; i < header.length; i++) {
			const tampered = header.slice();
			tampered[i]! ^= 0x01;
			let changed: boolean;
			try {
				const decoded = readPatientBlockHeader(decodeCanonical(tampered));
				checkPatientBlock({ ...block, header: decoded }, genesis.institutions);
				changed = Buffer.compare(patientBlockHash(decoded), hash) !== 0;
			} catch (error) {
				expect(error).toBeInstanceOf(ValidationError);
				changed = true;
			}
			expect(changed, `byte ${i}`).toBe(true);
		}
	});

	it('rejects leaves that do not match the consortium, and proofs on empty leaves', () => {
		const block = created();
		const expectCode = (b: typeof block, code: string) =>
			expect(() => checkPatientBlock(b, genesis.institutions)).toThrow(expect.objectContaining({ code }));
		expectCode({ ...block, leaves: block.leaves.slice(1) }, 'patient-leaves');
		expectCode(
			{ ...block, leaves: [block.leaves[1]!, block.leaves[0]!, ...block.leaves.slice(2)] },
			'patient-leaves'
		);
		expectCode(
			{ ...block, leaves: block.leaves.map((l, i) => (i === 0 ? { ...l, proof: new Uint8Array(256) } : l)) },
			'patient-proof'
		);
		expectCode(
			{ ...block, header: { ...block.header, patient: patientKeys('bob').publicKey } },
			'patient-root'
		);
	});

	it('never throws anything but a ValidationError on random or truncated bytes', () => {
		const bytes = encodePatientBlock(created());
		fc.assert(
			fc.property(fc.nat(bytes.length), fc.uint8Array({ maxLength: 400 }), (cut, noise) => {
				expectOnlyValidationErrors((b) => decodePatientBlock(b, 16), [bytes.slice(0, cut), noise]);
			}),
			{ numRuns: 300 }
		);
	});
});
