/**
 * Hash-power shares of the top 15 Bitcoin mining pools, the population RepuCoin (and SPChain's Fig. 12)
 * simulate. RepuCoin took them from the public pool statistics of its time (2017–2018); the figures
 * below are our approximation of that distribution (the paper does not list them), normalised to sum
 * to 1 because the 15 pools stand for the whole network here.
 */
export const TOP_POOLS: readonly { name: string; percent: number }[] = [
	{ name: 'BTC.com', percent: 25.0 },
	{ name: 'AntPool', percent: 14.0 },
	{ name: 'ViaBTC', percent: 11.5 },
	{ name: 'SlushPool', percent: 10.5 },
	{ name: 'F2Pool', percent: 9.5 },
	{ name: 'BTC.TOP', percent: 8.5 },
	{ name: 'BTCC', percent: 4.5 },
	{ name: 'BitFury', percent: 3.5 },
	{ name: 'BW.COM', percent: 3.0 },
	{ name: 'Bitcoin.com', percent: 2.5 },
	{ name: 'Huobi.pool', percent: 2.0 },
	{ name: 'Bixin', percent: 1.5 },
	{ name: 'GBMiners', percent: 1.5 },
	{ name: 'KanoPool', percent: 1.0 },
	{ name: '1Hash', percent: 1.0 }
];

/** The pools' shares, summing to 1. */
export function poolShares(): number[] {
	const total = TOP_POOLS.reduce((s, p) => s + p.percent, 0);
	return TOP_POOLS.map((p) => p.percent / total);
}
