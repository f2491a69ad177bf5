/**
 * The small bundled vocabulary the form writes and the renderer reads: the FHIR vital-signs profile's
 * LOINC codes (with the display a patient reads) and the UCUM units clinicians type, with their everyday
 * spelling. A record carries its own displays; this table only names what a record leaves bare (a coding
 * with a code and no display, a UCUM code such as "Cel") and lets the form code what a clinician types
 * ("Heart rate", "bpm") so the next clinic's software can read it too.
 */
import type { Coding } from '@medplum/fhirtypes';

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';

export interface VitalSign {
	code: string;
	display: string;
	/** Its UCUM unit, when it has one. */
	unit?: string;
	/** Other names a clinician types for it (lower case). */
	aliases: string[];
}

/** The vital-signs profile of FHIR R4 (http://hl7.org/fhir/R4/observation-vitalsigns.html). */
export const VITAL_SIGNS: VitalSign[] = [
	{ code: '85354-9', display: 'Blood pressure', unit: 'mm[Hg]', aliases: ['bp', 'blood pressure panel'] },
	{ code: '8480-6', display: 'Systolic blood pressure', unit: 'mm[Hg]', aliases: ['systolic'] },
	{ code: '8462-4', display: 'Diastolic blood pressure', unit: 'mm[Hg]', aliases: ['diastolic'] },
	{ code: '8867-4', display: 'Heart rate', unit: '/min', aliases: ['pulse', 'hr'] },
	{ code: '9279-1', display: 'Respiratory rate', unit: '/min', aliases: ['breathing rate', 'rr'] },
	{ code: '8310-5', display: 'Body temperature', unit: 'Cel', aliases: ['temperature', 'temp'] },
	{ code: '2708-6', display: 'Oxygen saturation', unit: '%', aliases: ['spo2', 'sao2', 'oxygen'] },
	{ code: '29463-7', display: 'Body weight', unit: 'kg', aliases: ['weight'] },
	{ code: '8302-2', display: 'Body height', unit: 'cm', aliases: ['height'] },
	{ code: '39156-5', display: 'Body mass index', unit: 'kg/m2', aliases: ['bmi'] },
	{ code: '9843-4', display: 'Head circumference', unit: 'cm', aliases: ['head circumference'] }
];

export const BLOOD_PRESSURE = VITAL_SIGNS[0]!;
export const SYSTOLIC = VITAL_SIGNS[1]!;
export const DIASTOLIC = VITAL_SIGNS[2]!;

const BY_CODE = new Map(VITAL_SIGNS.map((v) => [v.code, v]));
const BY_NAME = new Map(
	VITAL_SIGNS.flatMap((v) => [v.display.toLowerCase(), ...v.aliases].map((n) => [n, v]))
);

/** The vital sign a clinician's words name ("Heart rate", "pulse", "BP"), if any. */
export function vitalSignNamed(text: string): VitalSign | undefined {
	return BY_NAME.get(text.trim().toLowerCase());
}

const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

/** The Encounter classes the form writes (v3 ActCode), in words. */
const ENCOUNTER_CLASS: Record<string, string> = {
	AMB: 'Outpatient visit',
	EMER: 'Emergency visit',
	IMP: 'Hospital stay',
	VR: 'Virtual visit',
	HH: 'Home visit'
};

/** The display of a coding that carries none: a LOINC vital sign, or an Encounter class. */
export function codingDisplay(coding: Coding | undefined): string | undefined {
	if (!coding?.code) return undefined;
	if (coding.system === ACT_CODE) return ENCOUNTER_CLASS[coding.code];
	if (coding.system !== undefined && coding.system !== LOINC) return undefined;
	return BY_CODE.get(coding.code)?.display;
}

interface Unit {
	ucum: string;
	/** How a person writes it. */
	shown: string;
	/** Other ways clinicians type it (lower case). */
	typed: string[];
}

const UNITS: Unit[] = [
	{ ucum: 'mm[Hg]', shown: 'mmHg', typed: ['mmhg', 'mm hg'] },
	{ ucum: 'Cel', shown: '°C', typed: ['c', '°c', 'degc', 'celsius'] },
	{ ucum: '[degF]', shown: '°F', typed: ['f', '°f', 'degf', 'fahrenheit'] },
	{ ucum: '/min', shown: '/min', typed: ['bpm', 'beats/min', '/min', 'per minute', 'breaths/min'] },
	{ ucum: '%', shown: '%', typed: ['percent'] },
	{ ucum: 'kg', shown: 'kg', typed: [] },
	{ ucum: 'g', shown: 'g', typed: [] },
	{ ucum: '[lb_av]', shown: 'lb', typed: ['lb', 'lbs'] },
	{ ucum: 'cm', shown: 'cm', typed: [] },
	{ ucum: 'm', shown: 'm', typed: [] },
	{ ucum: '[in_i]', shown: 'in', typed: ['in', 'inch', 'inches'] },
	{ ucum: 'kg/m2', shown: 'kg/m²', typed: ['kg/m²'] },
	{ ucum: 'mg', shown: 'mg', typed: [] },
	{ ucum: 'mL', shown: 'mL', typed: ['ml'] },
	{ ucum: 'L', shown: 'L', typed: ['l'] },
	{ ucum: 'mg/dL', shown: 'mg/dL', typed: ['mg/dl'] },
	{ ucum: 'g/dL', shown: 'g/dL', typed: ['g/dl'] },
	{ ucum: 'mmol/L', shown: 'mmol/L', typed: ['mmol/l'] },
	{ ucum: 'umol/L', shown: 'µmol/L', typed: ['µmol/l', 'umol/l'] },
	{ ucum: 'mg/L', shown: 'mg/L', typed: ['mg/l'] },
	{ ucum: '10*9/L', shown: '×10⁹/L', typed: ['x10^9/l', '10^9/l', 'g/l (cells)'] }
];

const UNIT_BY_CODE = new Map(UNITS.map((u) => [u.ucum, u]));
const UNIT_BY_TYPED = new Map(
	UNITS.flatMap((u) => [u.ucum.toLowerCase(), u.shown.toLowerCase(), ...u.typed].map((t) => [t, u]))
);

/** The UCUM code of a unit as a clinician types it ("mmHg" → "mm[Hg]", "bpm" → "/min"), if one is known. */
export function ucumOf(typed: string): string | undefined {
	return UNIT_BY_TYPED.get(typed.trim().toLowerCase())?.ucum;
}

/**
 * A unit as a person reads it: the record's own unit text, except a bare UCUM code, which is spelled the
 * everyday way ("Cel" → "°C", "mm[Hg]" → "mmHg").
 */
export function unitText(unit: string | undefined, code?: string): string {
	const written = unit ?? code ?? '';
	return UNIT_BY_CODE.get(written)?.shown ?? written;
}
