namespace ImageGen.ServiceDefaults;

/// <summary>Which outgoing requests the HTTP clients may send again after a transient failure.</summary>
public static class HttpRetryRules
{
    public const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>True when sending the request twice cannot do twice what it asks: a safe method, or a keyed POST.</summary>
    public static bool IsRetrySafe(HttpRequestMessage request) =>
        !(request.Method == HttpMethod.Post || request.Method == HttpMethod.Patch) || request.Headers.Contains(IdempotencyHeader);
}
