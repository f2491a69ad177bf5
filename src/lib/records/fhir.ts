/**
 * The FHIR layer of records, one concept per file under fhir/: limits and hostile-input checks
 * (limits.ts), the cheap check every holder runs (record.ts), the R4 validator the clinic loads on demand
 * (validator.ts), a visit as one record (visit.ts), the form's records (form.ts), the export (export.ts),
 * names and summaries (names.ts) and the plain-language rendering model (render.ts). This module is the
 * entry point the rest of the app imports; docs/fhir.md explains the choices.
 */
export { FhirError, problemText, type FhirProblem } from './fhir/errors.ts';
export {
	attachmentRefs,
	eachAttachment,
	extractAttachments,
	inlineAttachments,
	type PlannedAttachment
} from './fhir/attachments.ts';
export {
	INLINE_ATTACHMENT_BYTES,
	MAX_ATTACHMENT_BYTES,
	MAX_DEPTH,
	MAX_ENTRIES,
	MAX_IMPORT_BYTES,
	MAX_RECORD_BYTES,
	formatBytes,
	parseFhirJson
} from './fhir/limits.ts';
export {
	isR4ResourceType,
	parseRecord,
	parseRecord as parseResource,
	type RecordResource
} from './fhir/record.ts';
export { ensureValidResource, loadValidator, validateResource } from './fhir/validator.ts';
export { planImport, type ImportItem, type ImportPlan } from './fhir/visit.ts';
export {
	CONDITION_CLINICAL,
	CONDITION_VERIFICATION,
	ENCOUNTER_STATUS,
	isRecordKind,
	MEDICATION_INTENT,
	MEDICATION_STATUS,
	OBSERVATION_STATUS,
	RECORD_KINDS,
	recordFromForm,
	REPORT_STATUS,
	type CodeInput,
	type FormFields,
	type RecordKind
} from './fhir/form.ts';
export {
	exportHistory,
	exportResources as exportBundle,
	stableUuid,
	type ExportLabel,
	type ExportRecord
} from './fhir/export.ts';
export { conceptText, dateOf, dateWords, nameOf, summarize, topicOf } from './fhir/names.ts';
export {
	formatFhirDate,
	narrativeText,
	renderRecord,
	type RenderedAttachment,
	type RenderedItem
} from './fhir/render.ts';
