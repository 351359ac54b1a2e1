using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace ImageGen.ServiceDefaults.Telemetry;

/// <summary>
/// The product's own instruments, on the <c>ImageGen</c> meter (exported over OTLP to the dashboard). Names and tags
/// follow the OpenTelemetry conventions: lower-case dotted names, units in UCUM, <c>error.type</c> for the error code.
/// </summary>
public sealed class ImageGenMetrics
{
    public const string ModelTag = "imagegen.model";
    public const string ProviderTag = "imagegen.provider";
    public const string StatusTag = "imagegen.quest.status";
    public const string ErrorTag = "error.type";
    public const string HttpStatusTag = "http.response.status_code";
    public const string CircuitTag = "imagegen.circuit.state";
    public const string CreditKindTag = "imagegen.credit.kind";

    private readonly Counter<long> _submitted;
    private readonly Counter<long> _ended;
    private readonly Histogram<double> _queueWait;
    private readonly Histogram<double> _generation;
    private readonly Counter<long> _providerCalls;
    private readonly Counter<long> _providerRetries;
    private readonly Counter<long> _circuitChanges;
    private readonly Counter<long> _credits;
    private readonly UpDownCounter<long> _hubConnections;
    private readonly Counter<long> _hubDisconnects;
    private readonly Counter<long> _imagesStored;
    private readonly Counter<long> _imageBytes;

    private (long Waiting, long Pending)? _queue;

    public ImageGenMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(ServiceDefaultsExtensions.TelemetryName);
        meter.CreateObservableGauge("imagegen.queue.depth", () => _queue is { } q ? [new Measurement<long>(q.Waiting)] : Array.Empty<Measurement<long>>(),
            "{quest}", "Stream entries no worker has read yet (the consumer group's lag).");
        meter.CreateObservableGauge("imagegen.queue.pending", () => _queue is { } q ? [new Measurement<long>(q.Pending)] : Array.Empty<Measurement<long>>(),
            "{quest}", "Stream entries delivered to a worker and not yet acknowledged.");
        _submitted = meter.CreateCounter<long>("imagegen.quests.submitted", "{quest}", "Quests accepted for generation.");
        _ended = meter.CreateCounter<long>("imagegen.quests.ended", "{quest}", "Quests that reached a final state, by status (succeeded, failed, cancelled, timed_out).");
        _queueWait = meter.CreateHistogram<double>("imagegen.quest.queue.duration", "s", "Time from submit (or re-queue) until a worker started the quest.");
        _generation = meter.CreateHistogram<double>("imagegen.quest.generation.duration", "s", "Time spent in the provider or the local renderer, per finished quest.");
        _providerCalls = meter.CreateCounter<long>("imagegen.provider.calls", "{call}", "Calls to an image provider, by outcome.");
        _providerRetries = meter.CreateCounter<long>("imagegen.provider.retries", "{retry}", "Provider calls repeated after a retryable failure.");
        _circuitChanges = meter.CreateCounter<long>("imagegen.provider.circuit.changes", "{change}", "Circuit breaker state changes per provider.");
        _credits = meter.CreateCounter<long>("imagegen.credits", "{credit}", "Credits reserved at submit, captured on success, released otherwise.");
        _hubConnections = meter.CreateUpDownCounter<long>("imagegen.hub.connections", "{connection}", "Open SignalR connections to the quest hub.");
        _hubDisconnects = meter.CreateCounter<long>("imagegen.hub.disconnects", "{disconnect}", "Closed quest hub connections; error.type is set when one dropped.");
        _imagesStored = meter.CreateCounter<long>("imagegen.images.stored", "{image}", "Images written to the image store.");
        _imageBytes = meter.CreateCounter<long>("imagegen.images.stored.size", "By", "Bytes of images written to the image store.");
    }

    public void QuestSubmitted(string model, string provider, int cost)
    {
        _submitted.Add(1, new(ModelTag, model), new(ProviderTag, provider));
        Credits("reserved", cost);
    }

    /// <param name="status">succeeded, failed, cancelled or timed_out.</param>
    public void QuestEnded(string model, string provider, string status, string? errorCode, TimeSpan? generation)
    {
        var tags = new TagList { { ModelTag, model }, { ProviderTag, provider }, { StatusTag, status } };
        if (errorCode is not null)
        {
            tags.Add(ErrorTag, errorCode);
        }

        _ended.Add(1, tags);
        if (generation is { } duration)
        {
            _generation.Record(duration.TotalSeconds, tags);
        }
    }

    public void QuestStarted(string model, string provider, TimeSpan queued) =>
        _queueWait.Record(Math.Max(0, queued.TotalSeconds), new(ModelTag, model), new(ProviderTag, provider));

    public void ProviderCalled(string model, string provider, int? httpStatus, string? errorCode, bool retried)
    {
        var tags = new TagList { { ModelTag, model }, { ProviderTag, provider } };
        if (httpStatus is { } status)
        {
            tags.Add(HttpStatusTag, status);
        }

        if (errorCode is not null)
        {
            tags.Add(ErrorTag, errorCode);
        }

        _providerCalls.Add(1, tags);
        if (retried)
        {
            _providerRetries.Add(1, tags);
        }
    }

    public void CircuitChanged(string provider, string state) => _circuitChanges.Add(1, new(ProviderTag, provider), new(CircuitTag, state));

    /// <param name="kind">reserved, captured or released.</param>
    public void Credits(string kind, int amount)
    {
        if (amount > 0)
        {
            _credits.Add(amount, new KeyValuePair<string, object?>(CreditKindTag, kind));
        }
    }

    public void HubConnected() => _hubConnections.Add(1);

    public void HubDisconnected(bool dropped)
    {
        _hubConnections.Add(-1);
        if (dropped)
        {
            _hubDisconnects.Add(1, new KeyValuePair<string, object?>(ErrorTag, "connection_lost"));
        }
        else
        {
            _hubDisconnects.Add(1);
        }
    }

    /// <summary>The quest queue as last read (XINFO GROUPS), reported by each worker.</summary>
    public void QueueRead(long waiting, long pending) => _queue = (waiting, pending);

    public void ImageStored(long bytes)
    {
        _imagesStored.Add(1);
        _imageBytes.Add(bytes);
    }
}
