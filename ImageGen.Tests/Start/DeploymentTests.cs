using System.Diagnostics;
using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace ImageGen.Tests.Start;

/// <summary>
/// The deployment past one machine: the AppHost's manifest (publish mode) declares Redis and Postgres as containers,
/// never local processes, and the Kubernetes base (deploy/kubernetes) runs every service with its probes, image and the
/// environment names that service is given by the AppHost, so what the cluster sets is what the code reads.
/// </summary>
public sealed partial class DeploymentTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;
    private static readonly string Base = System.IO.Path.Combine(FindRoot(), "deploy", "kubernetes", "base");

    /// <summary>Names a deployment adds that the AppHost does not: the runtime's own.</summary>
    private static readonly string[] PlatformNames = ["ASPNETCORE_", "DOTNET_", "OTEL_"];

    [Fact]
    public async Task The_manifest_declares_redis_and_postgres_as_containers()
    {
        var manifest = await ManifestAsync();
        var resources = manifest.RootElement.GetProperty("resources");
        Assert.Equal("container.v0", resources.GetProperty("redis").GetProperty("type").GetString());
        Assert.Equal("container.v0", resources.GetProperty("postgres").GetProperty("type").GetString());
        foreach (var project in new[] { "api", "worker", "web", "gateway", "migrations" })
        {
            Assert.Equal("project.v0", resources.GetProperty(project).GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task Every_service_runs_with_probes_an_image_and_only_settings_the_apphost_gives_it()
    {
        var manifest = (await ManifestAsync()).RootElement.GetProperty("resources");
        var workloads = Documents().Where(d => Kind(d) is "Deployment" or "Job").ToList();
        Assert.Equal(["api", "gateway", "imagegen-migrations", "web", "worker"], workloads.Select(Name).Order());

        foreach (var workload in workloads)
        {
            var service = Name(workload).Replace("imagegen-", "", StringComparison.Ordinal);
            var known = manifest.GetProperty(service).GetProperty("env").EnumerateObject().Select(p => p.Name).ToHashSet();
            var container = (YamlMappingNode)Path(workload, "spec", "template", "spec", "containers")[0];
            Assert.False(string.IsNullOrEmpty(Scalar(container, "image")), $"{service} has an image");
            var names = Env(container).Concat(ConfigMapNames(container)).ToList();
            Assert.All(names.Where(n => !PlatformNames.Any(p => n.StartsWith(p, StringComparison.Ordinal))),
                n => Assert.True(known.Contains(n), $"{service} is given {n}, which the AppHost never gives it"));
            // What it cannot run without is there: its connection strings and service addresses.
            // (The manifest spells a name with a dash twice, the second time with an underscore: either will do.)
            Assert.All(known.Where(n => n.StartsWith("ConnectionStrings__", StringComparison.Ordinal) || n.StartsWith("services__", StringComparison.Ordinal)),
                n => Assert.Contains(names, given => given.Replace('-', '_') == n.Replace('-', '_')));

            if (Kind(workload) == "Deployment")
            {
                Assert.Equal("/health", Scalar(Path(container, "readinessProbe", "httpGet"), "path"));
                Assert.Equal("/alive", Scalar(Path(container, "livenessProbe", "httpGet"), "path"));
            }
        }
    }

    [Fact]
    public async Task Images_live_in_the_object_store_and_no_workload_keeps_state_on_a_volume()
    {
        var manifest = (await ManifestAsync()).RootElement.GetProperty("resources");
        foreach (var service in new[] { "api", "worker" })
        {
            var env = manifest.GetProperty(service).GetProperty("env").EnumerateObject().Select(p => p.Name).ToList();
            Assert.Contains("ImageStore__S3__Bucket", env);
            Assert.Contains("ImageStore__S3__SecretKey", env);
            Assert.DoesNotContain("ImageStore__Path", env);
        }

        // The web learns where links point, never the keys.
        Assert.DoesNotContain(manifest.GetProperty("web").GetProperty("env").EnumerateObject(), p => p.Name.EndsWith("Key", StringComparison.Ordinal));
        Assert.Equal("parameter.v0", manifest.GetProperty("image-store-secret-key").GetProperty("type").GetString());

        var documents = Documents().ToList();
        Assert.DoesNotContain(documents, d => Kind(d) == "PersistentVolumeClaim");
        foreach (var workload in documents.Where(d => Kind(d) is "Deployment" or "Job"))
        {
            // The only volume is the scratch /tmp a read-only root needs: an emptyDir, gone with the pod.
            var volumes = (YamlSequenceNode)Path(workload, "spec", "template", "spec")["volumes"];
            var volume = (YamlMappingNode)Assert.Single(volumes.Children);
            Assert.True(volume.Children.ContainsKey("emptyDir"), $"{Name(workload)} mounts a volume that outlives its pod");
        }
    }

    /// <summary>
    /// What the "restricted" Pod Security Standard and a rolling upgrade ask of every pod, item by item: non-root with
    /// RuntimeDefault seccomp, no privilege escalation, every capability dropped, a read-only root; a startup probe and
    /// probe timeouts; a preStop pause and a grace period covering the longest wait; spread over nodes; one pod down
    /// at a time; no replica count on what an autoscaler scales.
    /// </summary>
    [Fact]
    public void Every_pod_is_hardened_and_upgrades_without_dropping_work()
    {
        var documents = Documents().ToList();
        var longestWait = new Dictionary<string, int> { ["api"] = 150, ["gateway"] = 150, ["worker"] = 120, ["web"] = 30 };
        foreach (var workload in documents.Where(d => Kind(d) is "Deployment" or "Job"))
        {
            var name = Name(workload);
            var pod = Path(workload, "spec", "template", "spec");
            Assert.Equal(("true", "RuntimeDefault"), (Scalar(Path(pod, "securityContext"), "runAsNonRoot"), Scalar(Path(pod, "securityContext", "seccompProfile"), "type")));
            var container = (YamlMappingNode)((YamlSequenceNode)pod["containers"])[0];
            var security = Path(container, "securityContext");
            Assert.Equal(("false", "true"), (Scalar(security, "allowPrivilegeEscalation"), Scalar(security, "readOnlyRootFilesystem")));
            Assert.Equal("ALL", ((YamlScalarNode)((YamlSequenceNode)Path(security, "capabilities")["drop"])[0]).Value);
            if (Kind(workload) != "Deployment")
            {
                continue;
            }

            Assert.Equal("/alive", Scalar(Path(container, "startupProbe", "httpGet"), "path"));
            foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
            {
                Assert.True(int.Parse(Scalar(Path(container, probe), "timeoutSeconds"), System.Globalization.CultureInfo.InvariantCulture) >= 5, $"{name} {probe} timeout");
            }

            Assert.True(int.Parse(Scalar(Path(container, "lifecycle", "preStop", "sleep"), "seconds"), System.Globalization.CultureInfo.InvariantCulture) > 0);
            Assert.True(int.Parse(Scalar(pod, "terminationGracePeriodSeconds"), System.Globalization.CultureInfo.InvariantCulture) > longestWait[name],
                $"{name}'s grace period covers its longest wait");
            Assert.Equal("kubernetes.io/hostname", Scalar((YamlMappingNode)((YamlSequenceNode)pod["topologySpreadConstraints"])[0], "topologyKey"));
        }

        var scaled = documents.Where(d => Kind(d) is "HorizontalPodAutoscaler" or "ScaledObject").Select(d => Scalar(Path(d, "spec", "scaleTargetRef"), "name")).ToList();
        Assert.Equal(["api", "worker"], scaled.Order());
        Assert.All(documents.Where(d => Kind(d) == "Deployment" && scaled.Contains(Name(d))),
            d => Assert.False(Path(d, "spec").Children.ContainsKey("replicas"), $"{Name(d)} sets replicas its autoscaler owns"));
        Assert.All(documents.Where(d => Kind(d) == "PodDisruptionBudget"), d => Assert.Equal("1", Scalar(Path(d, "spec"), "maxUnavailable")));
    }

    /// <summary>
    /// Each service publishes as the image the overlay names (`dotnet publish -t:PublishContainer`), as the image's
    /// non-root user, exposing the port its Deployment uses: read from the project files, nothing is pulled or built.
    /// </summary>
    [Theory]
    [InlineData("ImageGen.Api", "api")]
    [InlineData("ImageGen.Worker", "worker")]
    [InlineData("ImageGen.Web", "web")]
    [InlineData("ImageGen.Gateway", "gateway")]
    [InlineData("ImageGen.MigrationService", "imagegen-migrations")]
    public void Each_service_publishes_as_the_image_the_overlay_names(string project, string workload)
    {
        var file = System.Xml.Linq.XDocument.Load(System.IO.Path.Combine(FindRoot(), project, project + ".csproj"));
        string? Property(string name) => file.Descendants(name).SingleOrDefault()?.Value;
        var repository = Property("ContainerRepository");
        Assert.Equal("app", Property("ContainerUser"));
        Assert.Equal("$(Version)", Property("ContainerImageTags"));

        var deployment = Documents().Single(d => Kind(d) is "Deployment" or "Job" && Name(d) == workload);
        var container = (YamlMappingNode)Path(deployment, "spec", "template", "spec", "containers")[0];
        Assert.Equal(repository, Scalar(container, "image"));
        var overlay = File.ReadAllText(System.IO.Path.Combine(FindRoot(), "deploy", "kubernetes", "overlays", "example", "kustomization.yaml"));
        Assert.Contains($"name: {repository},", overlay, StringComparison.Ordinal);

        var ports = file.Descendants("ContainerPort").Select(p => p.Attribute("Include")!.Value).ToList();
        var declared = container.Children.TryGetValue("ports", out var list)
            ? ((YamlSequenceNode)list).Cast<YamlMappingNode>().Select(p => Scalar(p, "containerPort")).ToList()
            : [];
        Assert.Equal(declared, ports);
    }

    [Fact]
    public void Nothing_talks_to_anything_a_network_policy_does_not_allow()
    {
        var documents = Documents().ToList();
        Assert.Equal("imagegen", Name(Assert.Single(documents, d => Kind(d) == "Namespace")));
        var policies = documents.Where(d => Kind(d) == "NetworkPolicy").ToList();
        var deny = Assert.Single(policies, p => Name(p) == "default-deny");
        Assert.Empty(Path(deny, "spec", "podSelector").Children);
        Assert.False(Path(deny, "spec").Children.ContainsKey("ingress") || Path(deny, "spec").Children.ContainsKey("egress"));
        // Each workload has its own policy; only the gateway takes traffic from outside the namespace's pods.
        foreach (var name in new[] { "api", "web", "gateway", "worker", "migrations" })
        {
            var policy = Assert.Single(policies, p => Name(p) == name);
            var ingress = Path(policy, "spec").Children.TryGetValue("ingress", out var rules) ? ((YamlSequenceNode)rules).Cast<YamlMappingNode>().ToList() : [];
            Assert.Equal(name == "gateway", ingress.Any(r => !r.Children.ContainsKey("from")));
        }

        var api = (YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)Path(policies.Single(p => Name(p) == "api"), "spec")["ingress"])[0])["from"];
        Assert.Equal(["gateway", "web"], api.Cast<YamlMappingNode>().Select(f => Scalar(Path(f, "podSelector", "matchLabels"), "app.kubernetes.io/name")).Order());
    }

    [Fact]
    public void The_gateway_finds_each_web_pod_by_a_headless_service_on_the_pods_own_port()
    {
        var documents = Documents().ToList();
        var pods = Assert.Single(documents, d => Kind(d) == "Service" && Name(d) == "web-pods");
        Assert.Equal("None", Scalar(Path(pods, "spec"), "clusterIP"));
        Assert.Equal("web", Scalar(Path(pods, "spec", "selector"), "app.kubernetes.io/name"));
        var port = Scalar((YamlMappingNode)((YamlSequenceNode)Path(pods, "spec")["ports"])[0], "port");
        var web = (YamlMappingNode)Path(documents.Single(d => Kind(d) == "Deployment" && Name(d) == "web"), "spec", "template", "spec", "containers")[0];
        Assert.Equal(port, Scalar((YamlMappingNode)((YamlSequenceNode)web["ports"])[0], "containerPort"));
        var gateway = (YamlMappingNode)Path(documents.Single(d => Kind(d) == "Deployment" && Name(d) == "gateway"), "spec", "template", "spec", "containers")[0];
        var given = ((YamlSequenceNode)gateway["env"]).Cast<YamlMappingNode>().Single(e => Scalar(e, "name") == "Gateway__WebPods");
        Assert.Equal($"http://web-pods:{port}", Scalar(given, "value"));
    }

    [Fact]
    public void The_api_scales_on_cpu_the_workers_on_the_queue_and_each_service_keeps_one_up()
    {
        var documents = Documents().ToList();
        var hpa = Assert.Single(documents, d => Kind(d) == "HorizontalPodAutoscaler");
        Assert.Equal("api", Scalar(Path(hpa, "spec", "scaleTargetRef"), "name"));
        var scaled = Assert.Single(documents, d => Kind(d) == "ScaledObject");
        var trigger = (YamlMappingNode)((YamlSequenceNode)Path(scaled, "spec")["triggers"])[0];
        Assert.Equal("redis-streams", Scalar(trigger, "type"));
        // On the lag (entries no worker read yet), not pending entries (work in flight).
        Assert.Equal("8", Scalar(Path(trigger, "metadata"), "lagCount"));
        Assert.False(Path(trigger, "metadata").Children.ContainsKey("pendingEntriesCount"));
        // The stream and group the workers read.
        Assert.Equal((Core.Messaging.QueueNames.QuestStream, Core.Messaging.QueueNames.WorkerGroup),
            (Scalar(Path(trigger, "metadata"), "stream"), Scalar(Path(trigger, "metadata"), "consumerGroup")));
        Assert.Equal(["api", "gateway", "web", "worker"], documents.Where(d => Kind(d) == "PodDisruptionBudget").Select(Name).Order());
    }

    private static async Task<JsonDocument> ManifestAsync()
    {
        var output = System.IO.Path.Combine(Directory.CreateTempSubdirectory("imagegen-manifest-").FullName, "manifest.json");
        var info = new ProcessStartInfo(System.IO.Path.Combine(AppContext.BaseDirectory, "ImageGen.AppHost"), ["--publisher", "manifest", "--output-path", output])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Token);
        var stderr = process.StandardError.ReadToEndAsync(Token);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0 && File.Exists(output), $"the manifest was not written ({process.ExitCode}): {await stdout}{await stderr}");
        return JsonDocument.Parse(await File.ReadAllTextAsync(output, Token));
    }

    private static IEnumerable<YamlMappingNode> Documents()
    {
        foreach (var file in Directory.GetFiles(Base, "*.yaml").Where(f => !f.EndsWith("kustomization.yaml", StringComparison.Ordinal)))
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(file);
            stream.Load(reader);
            foreach (var document in stream.Documents)
            {
                yield return (YamlMappingNode)document.RootNode;
            }
        }
    }

    private static IEnumerable<string> Env(YamlMappingNode container) =>
        container.Children.TryGetValue("env", out var env) ? ((YamlSequenceNode)env).Select(e => Scalar((YamlMappingNode)e, "name")) : [];

    /// <summary>The names a container takes from the ConfigMap (envFrom).</summary>
    private static IEnumerable<string> ConfigMapNames(YamlMappingNode container)
    {
        if (!container.Children.ContainsKey("envFrom"))
        {
            return [];
        }

        var config = Assert.Single(Documents(), d => Kind(d) == "ConfigMap");
        return ((YamlMappingNode)config["data"]).Children.Keys.Select(k => ((YamlScalarNode)k).Value!);
    }

    private static string Kind(YamlMappingNode document) => Scalar(document, "kind");

    private static string Name(YamlMappingNode document) => Scalar(Path(document, "metadata"), "name");

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node[key]).Value ?? "";

    private static YamlMappingNode Path(YamlMappingNode node, params string[] keys) => keys.Aggregate(node, (n, k) => (YamlMappingNode)n[k]);

    private static YamlSequenceNode Path(YamlMappingNode node, string a, string b, string c, string d) => (YamlSequenceNode)Path(node, a, b, c)[d];

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "ImageGen.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root was not found.");
    }
}
