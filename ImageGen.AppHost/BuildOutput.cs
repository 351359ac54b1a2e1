using System.Reflection;

namespace ImageGen.AppHost;

/// <summary>
/// Starts each service from the program its build made, instead of through <c>dotnet run --no-build</c>. Building the
/// AppHost builds every service first; <c>dotnet run</c> then only evaluates the project again to find that program,
/// which cost 2-4 s of CPU per service instance (a third of a test graph's start on two cores).
/// </summary>
internal static class BuildOutput
{
    /// <summary>The prefix of the assembly metadata (written at build time) that maps a project file to its program.</summary>
    private const string MetadataPrefix = "ImageGen.ServiceProgram:";

    public static void RunServicesFromBuildOutput(this IDistributedApplicationBuilder builder)
    {
        // A published deployment runs containers; `dotnet watch` needs its own command line.
        if (builder.ExecutionContext.IsPublishMode || builder.Configuration.GetValue<bool>("DOTNET_WATCH"))
        {
            return;
        }

        var programs = typeof(BuildOutput).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Where(a => a.Key.StartsWith(MetadataPrefix, StringComparison.Ordinal) && a.Value is not null)
            .ToDictionary(a => Path.GetFullPath(a.Key[MetadataPrefix.Length..]), a => a.Value!);
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            var projectPath = Path.GetFullPath(project.GetProjectMetadata().ProjectPath);
            // The native launcher beside the assembly, as `dotnet run` starts it; without one, `dotnet run` as before.
            if (programs.TryGetValue(projectPath, out var assembly) && Path.ChangeExtension(assembly, null) is var program && File.Exists(program))
            {
                project.Annotations.Add(new ExecutableAnnotation { Command = program, WorkingDirectory = Path.GetDirectoryName(projectPath)! });
            }
        }
    }
}
