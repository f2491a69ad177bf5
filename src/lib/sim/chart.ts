/**
 * Line charts as SVG strings, laid out with d3-scale and drawn with d3-shape: no DOM, so the CLI writes
 * the very same file the page shows. Output is deterministic (fixed size, fixed number formatting).
 */
import { scaleLinear } from 'd3-scale';
import { line } from 'd3-shape';

export interface Series {
	name: string;
	points: readonly (readonly [number, number])[];
	dashed?: boolean;
}

export interface LineChart {
	title: string;
	xLabel: string;
	yLabel: string;
	series: readonly Series[];
	/** Fixed y range; default: from the data. */
	yDomain?: readonly [number, number];
	/** Horizontal reference lines, e.g. the 1/3 and 2/3 thresholds. */
	guides?: readonly { y: number; label: string }[];
}

const WIDTH = 760;
const HEIGHT = 420;
const MARGIN = { top: 36, right: 190, bottom: 46, left: 62 };
/** Tableau 10 + 5: distinguishable for the 15 pools of Fig. 12. */
const PALETTE = [
	'#4e79a7',
	'#f28e2b',
	'#e15759',
	'#76b7b2',
	'#59a14f',
	'#edc948',
	'#b07aa1',
	'#ff9da7',
	'#9c755f',
	'#bab0ac',
	'#1f3b73',
	'#8c564b',
	'#17becf',
	'#7f7f7f',
	'#bcbd22'
];

function escapeXml(text: string): string {
	return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const fixed = (v: number) => (Math.round(v * 100) / 100).toString();

export function lineChartSvg(chart: LineChart): string {
	const xs = chart.series.flatMap((s) => s.points.map((p) => p[0]));
	const ys = chart.series.flatMap((s) => s.points.map((p) => p[1]));
	const x = scaleLinear()
		.domain([Math.min(...xs, 0), Math.max(...xs, Math.min(...xs, 0) + 1e-9)])
		.range([MARGIN.left, WIDTH - MARGIN.right]);
	const y = scaleLinear()
		.domain(chart.yDomain ? [...chart.yDomain] : [Math.min(...ys, 0), Math.max(...ys, 1e-9)])
		.nice()
		.range([HEIGHT - MARGIN.bottom, MARGIN.top]);
	const path = line<readonly [number, number]>()
		.x((p) => x(p[0]))
		.y((p) => y(p[1]))
		.digits(2);
	const out: string[] = [
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-label="${escapeXml(chart.title)}">`,
		`<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
		`<text x="${MARGIN.left}" y="20" font-size="14" font-weight="600">${escapeXml(chart.title)}</text>`
	];
	for (const t of x.ticks(8)) {
		out.push(
			`<line x1="${fixed(x(t))}" x2="${fixed(x(t))}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" stroke="#eee"/>`,
			`<text x="${fixed(x(t))}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${x.tickFormat(8)(t)}</text>`
		);
	}
	for (const t of y.ticks(6)) {
		out.push(
			`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${fixed(y(t))}" y2="${fixed(y(t))}" stroke="#eee"/>`,
			`<text x="${MARGIN.left - 6}" y="${fixed(y(t) + 4)}" text-anchor="end">${y.tickFormat(6)(t)}</text>`
		);
	}
	for (const g of chart.guides ?? []) {
		out.push(
			`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${fixed(y(g.y))}" y2="${fixed(y(g.y))}" stroke="#555" stroke-dasharray="2 3"/>`,
			`<text x="${WIDTH - MARGIN.right - 4}" y="${fixed(y(g.y) - 4)}" text-anchor="end" fill="#555">${escapeXml(g.label)}</text>`
		);
	}
	out.push(
		`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${HEIGHT - MARGIN.bottom}" y2="${HEIGHT - MARGIN.bottom}" stroke="#333"/>`,
		`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" stroke="#333"/>`,
		`<text x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 8}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
		`<text transform="translate(16 ${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`
	);
	chart.series.forEach((s, i) => {
		const color = PALETTE[i % PALETTE.length]!;
		const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
		out.push(`<path d="${path(s.points) ?? ''}" fill="none" stroke="${color}" stroke-width="1.6"${dash}/>`);
		const ly = MARGIN.top + 6 + i * 16;
		out.push(
			`<line x1="${WIDTH - MARGIN.right + 10}" x2="${WIDTH - MARGIN.right + 30}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
			`<text x="${WIDTH - MARGIN.right + 36}" y="${ly + 4}">${escapeXml(s.name)}</text>`
		);
	});
	out.push('</svg>');
	return out.join('\n') + '\n';
}
