using System.Diagnostics;

namespace ImageGen.AppHost.Infrastructure;

/// <summary>How Redis and Postgres run: as containers, or as local processes.</summary>
public enum InfrastructureMode
{
    Containers,
    Local,
}

internal static class InfrastructureModeDetector
{
    public const string ConfigKey = "ImageGen:Infrastructure";

    /// <summary>
    /// <c>ImageGen:Infrastructure</c> = <c>containers</c> or <c>local</c> forces a mode; otherwise containers when a
    /// container runtime answers. This is decided while the model is built: a container resource without a runtime
    /// would wait forever, so it must never enter the model.
    /// </summary>
    public static InfrastructureMode Choose(IConfiguration configuration)
    {
        var forced = configuration[ConfigKey];
        if (string.Equals(forced, "containers", StringComparison.OrdinalIgnoreCase))
        {
            return InfrastructureMode.Containers;
        }

        if (string.Equals(forced, "local", StringComparison.OrdinalIgnoreCase))
        {
            return InfrastructureMode.Local;
        }

        if (!string.IsNullOrEmpty(forced) && !string.Equals(forced, "auto", StringComparison.OrdinalIgnoreCase))
        {
            throw new InfrastructureException($"{ConfigKey} is '{forced}'; use 'containers', 'local' or 'auto'.");
        }

        var runtime = configuration["DOTNET_ASPIRE_CONTAINER_RUNTIME"] ?? "docker";
        return ContainerRuntimeAnswers(runtime) ? InfrastructureMode.Containers : InfrastructureMode.Local;
    }

    private static bool ContainerRuntimeAnswers(string runtime)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, ["info", "--format", "{{.ServerVersion}}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (process is null)
            {
                return false;
            }

            if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No such program.
            return false;
        }
    }
}
