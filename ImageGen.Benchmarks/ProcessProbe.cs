using System.Diagnostics;
using System.Globalization;

namespace ImageGen.Benchmarks;

/// <summary>
/// What one process of the graph holds and has spent: resident memory (MB) and CPU time (s, user + system). For
/// Postgres, whose backends share the buffer cache, the memory is the proportional share (PSS) of each: summing their
/// RSS would count the shared buffers once per backend.
/// </summary>
internal readonly record struct ProcessSample(double RssMb, double CpuSeconds, int Pid = 0);

/// <summary>
/// This graph's processes read from /proc: the services (found by their Redis connection string; replicas listed one
/// by one), and Postgres (the postmaster on the graph's port with every backend it forked) and Redis as one figure each.
/// </summary>
internal sealed class ProcessProbe(string redisConnection, int postgresPort, int redisPort)
{
    private static readonly string[] Services = ["ImageGen.Api", "ImageGen.Worker", "ImageGen.Web", "ImageGen.Gateway", "ImageGen.ProviderSimulator"];
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>Starts counting the CPU every process of the graph, and the benchmark itself, spends from now.</summary>
    public CpuMeter StartCpuMeter() => new(this);

    /// <summary>CPU (s) of each thread of the process that is the runtime's background compiler, by thread id.</summary>
    public static IEnumerable<(int Tid, double Seconds)> BackgroundCompilerThreads(int pid, HashSet<int> notCompiler)
    {
        IEnumerable<string> tasks;
        try
        {
            tasks = Directory.EnumerateDirectories($"/proc/{pid}/task").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }

        foreach (var task in tasks)
        {
            var tid = int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
            double? seconds = null;
            try
            {
                if (!notCompiler.Contains(tid))
                {
                    if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Tiered Com", StringComparison.Ordinal))
                    {
                        var fields = Fields(File.ReadAllText(Path.Combine(task, "stat")));
                        seconds = UserAndSystemTicks(fields) / TicksPerSecond;
                    }
                    else
                    {
                        notCompiler.Add(tid);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The thread ended while we looked.
            }

            if (seconds is { } s)
            {
                yield return (tid, s);
            }
        }
    }

    public Dictionary<string, ProcessSample> Sample()
    {
        var result = new Dictionary<string, ProcessSample>();
        var processes = new List<(int Pid, int Parent, string[] Argv, string Stat)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var parent = int.Parse(Fields(stat)[1], CultureInfo.InvariantCulture);
                processes.Add((pid, parent, File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0'), stat));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // Gone while we looked.
            }
        }

        foreach (var (pid, _, argv, stat) in processes)
        {
            var service = Services.FirstOrDefault(s => argv[0].EndsWith("/" + s, StringComparison.Ordinal) || argv.Any(a => a.EndsWith(s + ".dll", StringComparison.Ordinal)));
            if (service is null || !BelongsToGraph(pid, service))
            {
                continue;
            }

            var name = result.ContainsKey(service) ? $"{service}#{result.Keys.Count(k => k.StartsWith(service, StringComparison.Ordinal)) + 1}" : service;
            result[name] = Read(pid, stat, withChildren: false) with { Pid = pid };
        }

        var port = postgresPort.ToString(CultureInfo.InvariantCulture);
        if (processes.FirstOrDefault(p => p.Argv[0].EndsWith("/postgres", StringComparison.Ordinal) && p.Argv.Contains(port)) is { Pid: > 0 } postmaster)
        {
            // Backends that ended are in the postmaster's children time; live ones are counted one by one.
            var total = Read(postmaster.Pid, postmaster.Stat, withChildren: true, proportional: true);
            foreach (var backend in processes.Where(p => p.Parent == postmaster.Pid))
            {
                var sample = Read(backend.Pid, backend.Stat, withChildren: false, proportional: true);
                total = new ProcessSample(total.RssMb + sample.RssMb, total.CpuSeconds + sample.CpuSeconds);
            }

            result["postgres"] = total;
        }

        var redisAddress = ":" + redisPort.ToString(CultureInfo.InvariantCulture);
        if (processes.FirstOrDefault(p => p.Argv[0].Contains("redis-server", StringComparison.Ordinal) && string.Join(' ', p.Argv).Contains(redisAddress, StringComparison.Ordinal)) is { Pid: > 0 } redis)
        {
            result["redis"] = Read(redis.Pid, redis.Stat, withChildren: false);
        }

        return result;
    }

    private bool BelongsToGraph(int pid, string service)
    {
        try
        {
            // The gateway and the simulator hold no Redis connection; only one graph runs under the benchmark.
            return service is "ImageGen.Gateway" or "ImageGen.ProviderSimulator"
                || File.ReadAllText($"/proc/{pid}/environ").Contains(redisConnection, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static ProcessSample Read(int pid, string stat, bool withChildren, bool proportional = false)
    {
        // Fields after the command name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
        var fields = Fields(stat);
        var ticks = UserAndSystemTicks(fields);
        if (withChildren)
        {
            ticks += double.Parse(fields[13], CultureInfo.InvariantCulture) + double.Parse(fields[14], CultureInfo.InvariantCulture);
        }

        var rssKb = 0.0;
        try
        {
            var line = proportional
                ? File.ReadLines($"/proc/{pid}/smaps_rollup").FirstOrDefault(l => l.StartsWith("Pss:", StringComparison.Ordinal))
                : File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            if (line is not null)
            {
                rssKb = double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone while we looked.
        }

        return new ProcessSample(rssKb / 1024, ticks / TicksPerSecond);
    }

    /// <summary>utime + stime of a stat line's <see cref="Fields"/> (a process's or a thread's), in ticks.</summary>
    private static double UserAndSystemTicks(string[] fields) =>
        double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture);

    /// <summary>The fields of /proc/pid/stat after "pid (comm)": the command name may hold spaces.</summary>
    private static string[] Fields(string stat) => stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
}

/// <summary>
/// CPU each process spent since the meter started, divided among units of work (quests, requests). Of the services'
/// CPU, the meter also tells what their background compilers spent (the runtime's ".NET Tiered Com" thread, which
/// recompiles hot methods at the optimizing tier): start-up cost a load pays until its hot paths are compiled, not the
/// cost of the load. That thread ends when it has had nothing to do for a while and takes its CPU time with it, so the
/// meter reads it every half second.
/// </summary>
internal sealed class CpuMeter : IDisposable
{
    /// <summary>The benchmark's own process: the load runs on the same cores.</summary>
    public const string Client = "(benchmark client)";

    private readonly ProcessProbe _probe;
    private readonly Dictionary<string, ProcessSample> _before;
    private readonly TimeSpan _clientBefore = Process.GetCurrentProcess().TotalProcessorTime;

    private readonly Dictionary<(int Pid, int Tid), (double First, double Last)> _compilers = [];
    private readonly Dictionary<int, HashSet<int>> _otherThreads = [];
    private readonly Timer _compilerReader;

    public CpuMeter(ProcessProbe probe)
    {
        _probe = probe;
        _before = probe.Sample();
        ReadCompilers(initial: true);
        _compilerReader = new Timer(_ => ReadCompilers(initial: false), null, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500));
    }

    private void ReadCompilers(bool initial)
    {
        lock (_compilers)
        {
            foreach (var (name, sample) in _before)
            {
                if (!name.StartsWith("ImageGen.", StringComparison.Ordinal))
                {
                    continue;
                }

                var others = _otherThreads.TryGetValue(sample.Pid, out var known) ? known : _otherThreads[sample.Pid] = [];
                foreach (var (tid, seconds) in ProcessProbe.BackgroundCompilerThreads(sample.Pid, others))
                {
                    // A compiler thread that starts after the meter counts from zero.
                    _compilers[(sample.Pid, tid)] = _compilers.TryGetValue((sample.Pid, tid), out var seen)
                        ? (seen.First, seconds)
                        : (initial ? seconds : 0, seconds);
                }
            }
        }
    }

    /// <summary>The services' background compilation since the meter started, per unit and as a share of their CPU.</summary>
    public (double PerUnit, double Share) Compilation(double units, double scale)
    {
        ReadCompilers(initial: false);
        double compiled;
        lock (_compilers)
        {
            compiled = _compilers.Values.Sum(c => c.Last - c.First);
        }

        var services = _probe.Sample().Where(p => p.Key.StartsWith("ImageGen.", StringComparison.Ordinal) && _before.ContainsKey(p.Key))
            .Sum(p => p.Value.CpuSeconds - _before[p.Key].CpuSeconds);
        return (compiled * scale / units, services > 0 ? compiled / services : 0);
    }

    public void Dispose() => _compilerReader.Dispose();

    /// <param name="units">How much work was done.</param>
    /// <param name="scale">1e3 for milliseconds per unit, 1e6 for microseconds.</param>
    public Dictionary<string, double> PerUnit(double units, double scale)
    {
        var spent = _probe.Sample().Where(p => _before.ContainsKey(p.Key))
            .ToDictionary(p => p.Key, p => (p.Value.CpuSeconds - _before[p.Key].CpuSeconds) * scale / units);
        spent[Client] = (Process.GetCurrentProcess().TotalProcessorTime - _clientBefore).TotalSeconds * scale / units;
        return spent;
    }
}
