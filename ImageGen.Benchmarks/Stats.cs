namespace ImageGen.Benchmarks;

/// <summary>Percentiles of a sample, in milliseconds.</summary>
internal sealed record Summary(int Count, double P50, double P95, double P99, double Max)
{
    public static Summary Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return new Summary(0, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        double At(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        return new Summary(sorted.Length, At(0.50), At(0.95), At(0.99), sorted[^1]);
    }

    public override string ToString() => Count == 0 ? "-" : $"{P50,7:0.0} {P95,7:0.0} {P99,7:0.0} {Max,7:0.0}";
}
