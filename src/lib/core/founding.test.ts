import { describe, expect, it } from 'vitest';
import { devGenesis, devInstitution, type DevInstitution } from '../../../tests/fixtures/genesis-dev.ts';
import { ValidationError } from './errors.ts';
import {
	addStep,
	beaconShare,
	decodeFounding,
	encodeFounding,
	foundedGenesis,
	foundingState,
	startFounding,
	verifyFounding,
	type FoundingParameters,
	type FoundingTranscript
} from './founding.ts';
import { genesisHash } from './genesis.ts';
import { decodeGenesisFile, encodeGenesisFile } from './genesis-file.ts';

const { institutions: _i, genesisMicroblock: _m, ...parameters } = devGenesis();
const founders = ['Aster Clinic', 'Birch Hospital', 'Cedar Health', 'Dogwood Medical'].map(devInstitution);
const contribution = (fill: number) => new Uint8Array(64).fill(fill);
/** Stands for the hash of the verification key a setup produced (the SNARK files give the real one). */
const setupVkey = new Uint8Array(32).fill(0x5e);

const join = (t: FoundingTranscript, f: DevInstitution) =>
	addStep(t, { kind: 'join', institution: f.institution }, f.institution.id, f.secrets.signingKey);

function joined(params: FoundingParameters = parameters): FoundingTranscript {
	return founders.reduce(join, startFounding(params));
}

/** Every founder joins, contributes to both phases and reveals each phase's share. */
function withSetup(): FoundingTranscript {
	let t = joined();
	for (const phase of [1, 2] as const) {
		const shares = founders.map((f, i) => {
			const s = beaconShare();
			t = addStep(
				t,
				{
					kind: 'contribute',
					phase,
					contribution: contribution(phase * 16 + i),
					beaconCommitment: s.commitment
				},
				f.institution.id,
				f.secrets.signingKey
			);
			return s.share;
		});
		founders.forEach((f, i) => {
			t = addStep(t, { kind: 'reveal', phase, share: shares[i]! }, f.institution.id, f.secrets.signingKey);
		});
	}
	return t;
}

const code = (fn: () => unknown) => {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(ValidationError);
		return (error as ValidationError).code;
	}
	throw new Error('expected a ValidationError');
};

describe('founding', () => {
	it('founds a genesis naming the founders in order and committing to the transcript', () => {
		const t = joined();
		const genesis = foundedGenesis(t);
		expect(genesis.institutions.map((i) => i.name)).toEqual(founders.map((f) => f.institution.name));
		expect(() => verifyFounding(genesis, t)).not.toThrow();
		// Signatures are randomised (BIP-340 auxiliary randomness): each founding is its own chain.
		expect(genesisHash(foundedGenesis(joined()))).not.toEqual(genesisHash(genesis));
		expect(() => verifyFounding(genesis, joined())).toThrow(ValidationError);
		expect(genesisHash(foundedGenesis(joined({ ...parameters, timestamp: 1 })))).not.toEqual(
			genesisHash(genesis)
		);
	});

	it('runs the SNARK phases with committed beacons and round-trips through the file format', () => {
		const t = withSetup();
		const state = foundingState(t);
		expect(state.beacons[1]).toHaveLength(32);
		expect(state.beacons[2]).toHaveLength(32);
		expect(state.beacons[1]).not.toEqual(state.beacons[2]);
		// The genesis pins the key the founders' setup produced, and cannot be made without it.
		expect(code(() => foundedGenesis(t))).toBe('founding-unfinished');
		const genesis = foundedGenesis(t, setupVkey);
		expect(genesis.chameleonVkeyHash).toEqual(setupVkey);
		const again = decodeGenesisFile(
			encodeGenesisFile({ genesis, founding: decodeFounding(encodeFounding(t)) })
		);
		expect(genesisHash(again.genesis)).toEqual(genesisHash(genesis));
		expect(again.founding?.steps).toHaveLength(t.steps.length);
	});

	it('refuses a tampered signature, key, contribution or share', () => {
		const t = withSetup();
		const genesis = foundedGenesis(t, setupVkey);
		const tamper = (i: number, change: (s: FoundingTranscript['steps'][number]) => void) => {
			const copy = decodeFounding(encodeFounding(t));
			change(copy.steps[i]!);
			return copy;
		};
		const badSignature = tamper(2, (s) => (s.signature = s.signature.map((b, i) => (i === 0 ? b ^ 1 : b))));
		expect(code(() => verifyFounding(genesis, badSignature))).toBe('founding-signature');
		const badKey = tamper(1, (s) => {
			if (s.step.kind === 'join') s.step.institution.chameleonKey = founders[3]!.institution.chameleonKey;
		});
		expect(code(() => verifyFounding(genesis, badKey))).toBe('founding-signature');
		const badContribution = tamper(5, (s) => {
			if (s.step.kind === 'contribute') s.step.contribution = contribution(0xee);
		});
		expect(code(() => verifyFounding(genesis, badContribution))).toBe('founding-signature');
		// A genesis that swaps in another key than the founders signed for.
		const swapped = { ...genesis, institutions: [...genesis.institutions] };
		swapped.institutions[0] = devInstitution('Elm Family Practice').institution;
		expect(code(() => verifyFounding(swapped, t))).toBe('founding-genesis');
		// A genesis file whose stated hash no longer matches.
		const file = JSON.parse(encodeGenesisFile({ genesis, founding: t }));
		file.hash = file.hash.replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
		expect(code(() => decodeGenesisFile(JSON.stringify(file)))).toBe('genesis-file-hash');
	});

	it('refuses steps out of order: a join after a contribution, an unjoined signer, a wrong share', () => {
		const [a, b] = [founders[0]!, founders[1]!];
		let t = join(startFounding(parameters), a);
		const s = beaconShare();
		t = addStep(
			t,
			{ kind: 'contribute', phase: 1, contribution: contribution(1), beaconCommitment: s.commitment },
			a.institution.id,
			a.secrets.signingKey
		);
		expect(code(() => join(t, b))).toBe('founding-order');
		expect(
			code(() =>
				addStep(t, { kind: 'reveal', phase: 1, share: s.share }, b.institution.id, b.secrets.signingKey)
			)
		).toBe('founding-order');
		expect(
			code(() =>
				addStep(
					t,
					{ kind: 'reveal', phase: 1, share: beaconShare().share },
					a.institution.id,
					a.secrets.signingKey
				)
			)
		).toBe('founding-beacon');
		expect(
			code(() =>
				addStep(
					t,
					{ kind: 'contribute', phase: 2, contribution: contribution(2), beaconCommitment: s.commitment },
					a.institution.id,
					a.secrets.signingKey
				)
			)
		).toBe('founding-order');
		expect(code(() => foundedGenesis(t))).toBe('founding-unfinished');
		expect(code(() => join(join(startFounding(parameters), a), a))).toBe('founding-join');
	});
});
