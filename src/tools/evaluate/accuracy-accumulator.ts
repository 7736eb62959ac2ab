/**
 * WMAE (weight 5 in IsHoliday weeks, else 1: the Kaggle competition's metric), the
 * seasonal-naive baseline on exactly the same pairs, and p10–p90 coverage, overall and per
 * horizon. See ../shared/data/walmart2014/README.md, "Accuracy protocol".
 */
export const HOLIDAY_WEIGHT = 5;

interface Sums {
  weight: number;
  modelError: number;
  baselineError: number;
  covered: number;
  pairs: number;
  holidayPairs: number;
}

const empty = (): Sums => ({ weight: 0, modelError: 0, baselineError: 0, covered: 0, pairs: 0, holidayPairs: 0 });

export interface AccuracySummary {
  pairs: number;
  holiday_pairs: number;
  wmae: number;
  seasonal_naive: number;
  ratio_to_seasonal_naive: number;
  coverage_p10_p90: number;
}

export class AccuracyAccumulator {
  private readonly total = empty();
  private readonly byHorizon: Sums[];

  constructor(readonly horizons: number) {
    this.byHorizon = Array.from({ length: horizons }, empty);
  }

  add(horizon: number, actual: number, p10: number, p50: number, p90: number, seasonalNaive: number, holiday: boolean): void {
    const w = holiday ? HOLIDAY_WEIGHT : 1;
    for (const s of [this.total, this.byHorizon[horizon - 1]!]) {
      s.weight += w;
      s.modelError += w * Math.abs(actual - p50);
      s.baselineError += w * Math.abs(actual - seasonalNaive);
      s.covered += actual >= p10 && actual <= p90 ? 1 : 0;
      s.pairs += 1;
      s.holidayPairs += holiday ? 1 : 0;
    }
  }

  private static summarise(s: Sums): AccuracySummary {
    return {
      pairs: s.pairs,
      holiday_pairs: s.holidayPairs,
      wmae: s.modelError / s.weight,
      seasonal_naive: s.baselineError / s.weight,
      ratio_to_seasonal_naive: s.modelError / s.baselineError,
      coverage_p10_p90: s.covered / s.pairs,
    };
  }

  overall(): AccuracySummary {
    return AccuracyAccumulator.summarise(this.total);
  }

  perHorizon(): Array<AccuracySummary & { horizon: number }> {
    return this.byHorizon.map((s, i) => ({ horizon: i + 1, ...AccuracyAccumulator.summarise(s) }));
  }
}
