using System.Diagnostics;
using ImageGen.AppHost.Infrastructure;

namespace ImageGen.Tests.Start;

/// <summary>
/// F5 after an unclean stop: a local Postgres (or Redis) that exits while the app starts used to leave the AppHost
/// waiting forever with no message. Now it stops with one line saying which one and why.
/// </summary>
public sealed class LocalStartFailureTests
{
    [Fact]
    public async Task A_broken_local_postgres_stops_the_app_with_one_line_saying_why()
    {
        // A developer's data directory whose cluster was left broken: a version file and nothing else.
        var root = Directory.CreateTempSubdirectory("imagegen-broken-").FullName;
        // Reachable by the postgres user, as the real data root is.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        try
        {
            var cluster = Path.Combine(root, "dev", "postgres", "data");
            Directory.CreateDirectory(cluster);
            await File.WriteAllTextAsync(Path.Combine(cluster, "PG_VERSION"), "15\n", TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(Path.Combine(root, "dev", "postgres", "password"), "left-over", TestContext.Current.CancellationToken);

            var info = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "ImageGen.AppHost"), [$"--ImageGen:DataRoot={root}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment =
                {
                    ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                    ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = "http://127.0.0.1:0",
                    ["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true",
                    ["DOTNET_ENVIRONMENT"] = "Development",
                },
            };
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            bound.CancelAfter(TimeSpan.FromSeconds(90));
            try
            {
                await process.WaitForExitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("The app kept waiting for a Postgres that had stopped.\n" + await output);
            }

            var said = (await error).Trim();
            Assert.Equal(1, process.ExitCode);
            Assert.StartsWith("ImageGen cannot start: the local postgres stopped while starting", said);
            Assert.Contains("postgresql.conf", said);
            Assert.Contains(cluster, said);
            Assert.DoesNotContain('\n', said);
        }
        finally
        {
            await DeleteWhenReleasedAsync(root);
        }
    }

    /// <summary>The orchestrator stops the local Redis a moment after the app exits; it may still be writing its files.</summary>
    private static async Task DeleteWhenReleasedAsync(string root)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                Directory.Delete(root, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 20)
            {
                await Task.Delay(500, TestContext.Current.CancellationToken);
            }
        }
    }

    [Theory]
    [InlineData("FATAL:  lock file \"postmaster.pid\" already exists", "delete its postmaster.pid")]
    [InlineData("LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use", "port is taken")]
    [InlineData("FATAL:  data directory \"/d\" has wrong ownership", "chown -R postgres:postgres /d")]
    public void Each_common_cause_gets_its_own_advice(string line, string advice)
    {
        var said = StartFailure.Explain("postgres", 1,
            ["2026-11-29T10:49:52.4490000Z [sys] Starting process...", "2026-11-29T10:49:52.5360000Z " + line], "/d");

        Assert.Contains(line.TrimEnd('.'), said);
        Assert.DoesNotContain("[sys]", said);
        Assert.Contains(advice, said);
    }
}
