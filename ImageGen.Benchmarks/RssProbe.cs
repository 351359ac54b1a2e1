namespace ImageGen.Benchmarks;

/// <summary>Resident memory of this graph's service processes (found by their Redis connection string), in MB.</summary>
internal sealed class RssProbe(string redisConnection)
{
    private static readonly string[] Services = ["ImageGen.Api", "ImageGen.Worker", "ImageGen.Web", "ImageGen.Gateway", "ImageGen.ProviderSimulator"];

    public Dictionary<string, double> Sample()
    {
        var result = new Dictionary<string, double>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                var service = Services.FirstOrDefault(s => argv[0].EndsWith("/" + s, StringComparison.Ordinal) || argv.Any(a => a.EndsWith(s + ".dll", StringComparison.Ordinal)));
                if (service is null)
                {
                    continue;
                }

                var environment = File.ReadAllText(Path.Combine(dir, "environ"));
                if (service != "ImageGen.Gateway" && service != "ImageGen.ProviderSimulator" && !environment.Contains(redisConnection, StringComparison.Ordinal))
                {
                    continue;
                }

                var line = File.ReadLines(Path.Combine(dir, "status")).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                if (line is not null && double.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out var kb))
                {
                    // Replicas are listed one by one.
                    var name = result.ContainsKey(service) ? $"{service}#{result.Keys.Count(k => k.StartsWith(service, StringComparison.Ordinal)) + 1}" : service;
                    result[name] = kb / 1024;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return result;
    }
}
