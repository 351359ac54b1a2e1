using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;

namespace ImageGen.Tests.Graph;

/// <summary>
/// One data point of a metric as a service instance (a replica, and the process it ran in: a restarted replica keeps
/// its instance name) exported it: its name, its tags and its (cumulative) value.
/// </summary>
public sealed record MetricPoint(string Service, string Instance, string Process, string Name, IReadOnlyDictionary<string, string> Tags, double Value);

/// <summary>
/// An OTLP/HTTP (protobuf) endpoint for the graph's services, so tests read the metrics the services really export.
/// Metrics are decoded (the few fields of opentelemetry/proto/metrics/v1 a test needs); traces and logs are taken
/// and dropped.
/// </summary>
public sealed class OtlpMetricsReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<MetricPoint> _points = new();
    private readonly Task _serving;

    public OtlpMetricsReceiver()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Address = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Address.ToString());
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public Uri Address { get; }

    public IReadOnlyCollection<MetricPoint> Points => _points;

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            // Each export on its own: traces and logs of eight services must not hold up the metrics behind them.
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url?.AbsolutePath == "/v1/metrics")
            {
                ReadExport(body.ToArray());
            }

            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
        }
        catch (InvalidProtocolBufferException)
        {
            context.Response.StatusCode = 400;
        }
        finally
        {
            context.Response.Close();
        }
    }

    // ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
    private void ReadExport(byte[] bytes)
    {
        foreach (var resource in Fields(bytes, 1))
        {
            // ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
            var attributes = Fields(resource, 1).SelectMany(r => Fields(r, 1)).Select(Attribute).ToList();
            var service = (attributes.FirstOrDefault(a => a.Key == "service.name").Value ?? "", attributes.FirstOrDefault(a => a.Key == "service.instance.id").Value ?? "",
                attributes.FirstOrDefault(a => a.Key == "process.pid").Value ?? "");
            foreach (var scope in Fields(resource, 2))
            {
                // ScopeMetrics { repeated Metric metrics = 2; }
                foreach (var metric in Fields(scope, 2))
                {
                    ReadMetric(service, metric);
                }
            }
        }
    }

    // Metric { string name = 1; Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; }
    private void ReadMetric((string Name, string Instance, string Process) service, byte[] metric)
    {
        var name = Fields(metric, 1).Select(b => System.Text.Encoding.UTF8.GetString(b)).FirstOrDefault() ?? "";
        foreach (var numbers in Fields(metric, 5).Concat(Fields(metric, 7)))
        {
            // NumberDataPoint { double as_double = 4; sfixed64 as_int = 6; repeated KeyValue attributes = 7; }
            foreach (var point in Fields(numbers, 1))
            {
                var value = 0.0;
                var input = new CodedInputStream(point);
                for (var tag = input.ReadTag(); tag != 0; tag = input.ReadTag())
                {
                    switch (WireFormat.GetTagFieldNumber(tag))
                    {
                        case 4: value = input.ReadDouble(); break;
                        case 6: value = input.ReadSFixed64(); break;
                        default: input.SkipLastField(); break;
                    }
                }

                _points.Enqueue(new MetricPoint(service.Name, service.Instance, service.Process, name, Fields(point, 7).Select(Attribute).ToDictionary(), value));
            }
        }

        foreach (var histogram in Fields(metric, 9))
        {
            // HistogramDataPoint { fixed64 count = 4; repeated KeyValue attributes = 9; }: the count is the value.
            foreach (var point in Fields(histogram, 1))
            {
                ulong count = 0;
                var input = new CodedInputStream(point);
                for (var tag = input.ReadTag(); tag != 0; tag = input.ReadTag())
                {
                    if (WireFormat.GetTagFieldNumber(tag) == 4)
                    {
                        count = input.ReadFixed64();
                    }
                    else
                    {
                        input.SkipLastField();
                    }
                }

                _points.Enqueue(new MetricPoint(service.Name, service.Instance, service.Process, name, Fields(point, 9).Select(Attribute).ToDictionary(), count));
            }
        }
    }

    // KeyValue { string key = 1; AnyValue value = 2; } AnyValue { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; }
    private static KeyValuePair<string, string> Attribute(byte[] keyValue)
    {
        var key = Fields(keyValue, 1).Select(b => System.Text.Encoding.UTF8.GetString(b)).FirstOrDefault() ?? "";
        var text = "";
        foreach (var any in Fields(keyValue, 2))
        {
            var input = new CodedInputStream(any);
            for (var tag = input.ReadTag(); tag != 0; tag = input.ReadTag())
            {
                text = WireFormat.GetTagFieldNumber(tag) switch
                {
                    1 => input.ReadString(),
                    2 => input.ReadBool() ? "true" : "false",
                    3 => input.ReadInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
                    4 => input.ReadDouble().ToString(System.Globalization.CultureInfo.InvariantCulture),
                    _ => Skip(input),
                };
            }
        }

        return new(key, text);

        static string Skip(CodedInputStream input)
        {
            input.SkipLastField();
            return "";
        }
    }

    /// <summary>The payloads of every length-delimited field <paramref name="number"/> of a message.</summary>
    private static List<byte[]> Fields(byte[] message, int number)
    {
        var found = new List<byte[]>();
        var input = new CodedInputStream(message);
        for (var tag = input.ReadTag(); tag != 0; tag = input.ReadTag())
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                found.Add(input.ReadBytes().ToByteArray());
            }
            else
            {
                input.SkipLastField();
            }
        }

        return found;
    }

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
