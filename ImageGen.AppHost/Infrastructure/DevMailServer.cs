namespace ImageGen.AppHost.Infrastructure;

/// <summary>
/// The development mail server: smtp4dev (the <c>Rnwood.Smtp4dev</c> .NET tool, run with <c>dotnet tool exec</c>, which
/// fetches it into the NuGet cache on first use). It takes everything sent to it over SMTP and keeps it, in memory,
/// for its web inbox (a link in the dashboard) and its HTTP API, which tests read verification links from. Nothing it
/// receives goes further.
/// </summary>
public static class DevMailServer
{
    public const string Tool = "Rnwood.Smtp4dev@3.15.0";
    public const string ResourceName = "mail";
    public const string SmtpEndpoint = "smtp";

    /// <summary>Messages kept in the inbox: enough for a test run's sign-ups.</summary>
    private const int MessagesKept = 100_000;

    public static IResourceBuilder<ExecutableResource> AddDevMailServer(this IDistributedApplicationBuilder builder, DataDirectory data)
    {
        var (smtpPort, webPort) = (LocalProcesses.FreePort(), LocalProcesses.FreePort());
        var healthKey = $"{ResourceName}-ready";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthKey, async cancellationToken =>
        {
            try
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{webPort}/api/messages?pageSize=1"), cancellationToken);
                return response.IsSuccessStatusCode
                    ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy()
                    : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy($"answered {(int)response.StatusCode}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("not listening yet", e);
            }
        });

        var port = (int p) => p.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return builder.AddExecutable(ResourceName, "dotnet", data.Path, "tool", "exec", Tool, "--yes", "--",
                $"--urls=http://127.0.0.1:{port(webPort)}", $"--smtpport={port(smtpPort)}", "--imapport=", "--pop3port=", "--db=",
                "--nousersettings", "--hostname=localhost", "--bindaddress=127.0.0.1", $"--messagestokeep={port(MessagesKept)}")
            .WithEnvironment("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
            .WithHttpEndpoint(port: webPort, targetPort: webPort, name: "http", isProxied: false)
            .WithEndpoint(port: smtpPort, targetPort: smtpPort, scheme: "tcp", name: SmtpEndpoint, isProxied: false)
            .WithHealthCheck(healthKey);
    }
}
