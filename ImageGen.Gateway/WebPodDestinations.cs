using System.Net;
using System.Net.Sockets;
using Yarp.ReverseProxy.Configuration;

namespace ImageGen.Gateway;

/// <summary>Where the web's instances are found: a host name that resolves to each of them (a headless Service), and how often to ask.</summary>
internal sealed record WebPodsOptions(Uri Address)
{
    public TimeSpan Refresh { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Keeps the web cluster at one destination per web instance in a cluster: every few seconds, the addresses the
/// configured host name resolves to (Kubernetes answers a headless Service's name with its ready pods) become the
/// cluster's destinations, so the affinity cookie names an instance and not the Service's one virtual address. A
/// lookup that fails or finds none keeps the destinations there were.
/// </summary>
internal sealed partial class WebPodDestinations(WebPodsOptions options, InMemoryConfigProvider proxy, ILogger<WebPodDestinations> logger) : BackgroundService
{
    private string _current = "";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Refresh);
        do
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (SocketException e)
            {
                LogLookupFailed(logger, options.Address.Host, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    internal async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var addresses = (await Dns.GetHostAddressesAsync(options.Address.Host, cancellationToken)).Select(a => a.ToString()).Order(StringComparer.Ordinal).ToList();
        var key = string.Join(',', addresses);
        if (addresses.Count == 0 || key == _current)
        {
            return;
        }

        var destinations = addresses.ToDictionary(a => $"pod-{a}", a => new DestinationConfig { Address = ForAddress(a) });
        var config = proxy.GetConfig();
        proxy.Update(config.Routes, [.. config.Clusters.Select(c => c.ClusterId == GatewayRoutes.WebCluster ? c with { Destinations = destinations } : c)]);
        _current = key;
        LogDestinations(logger, addresses.Count, options.Address.Host);
    }

    private string ForAddress(string address)
    {
        var host = IPAddress.Parse(address).AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address;
        return new UriBuilder(options.Address) { Host = host }.Uri.GetLeftPart(UriPartial.Authority);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The web cluster now has {Count} instance(s), from {Host}")]
    private static partial void LogDestinations(ILogger logger, int count, string host);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking up the web instances at {Host} failed ({Reason}); the destinations stay as they were")]
    private static partial void LogLookupFailed(ILogger logger, string host, string reason);
}
