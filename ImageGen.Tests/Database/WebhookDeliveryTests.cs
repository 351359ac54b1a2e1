using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ImageGen.Api.Images;
using ImageGen.Api.Webhooks;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Core.Webhooks;
using ImageGen.Data;
using ImageGen.Data.Credits;
using ImageGen.Data.Entities;
using ImageGen.Data.Quests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ImageGen.Tests.Database;

/// <summary>
/// Webhooks from the outbox to a receiver, against Postgres alone: the transitions write exactly the events a quest's
/// filter asks for in the commit that makes them; the dispatcher signs them, retries failures on its schedule with the
/// same id and body, gives up in the end, follows no redirect, and dials no address outside the allowed ones.
/// </summary>
[Collection(DatabaseCollection.Name)]
public sealed class WebhookDeliveryTests(ThrowawayPostgres postgres) : IAsyncDisposable
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly WebhookReceiver _receiver = new();
    private readonly List<Guid> _mine = [];

    [Fact]
    public async Task Each_change_writes_the_events_its_filter_asks_for_and_a_quest_without_a_webhook_writes_none()
    {
        var user = await NewUserAsync();
        var hooked = await RunToSuccessAsync(user, _receiver.Url, WebhookEvents.Started | WebhookEvents.Completed);
        var plain = await RunToSuccessAsync(user, url: null, WebhookEvents.None);

        Assert.Equal(["quest.started", "quest.succeeded"], await TypesAsync(hooked));
        Assert.Empty(await TypesAsync(plain));
    }

    [Fact]
    public async Task A_quest_that_names_no_webhook_goes_to_the_default_endpoint_with_its_filter()
    {
        var user = await NewUserAsync(defaultUrl: _receiver.Url, defaultEvents: WebhookEvents.Progress | WebhookEvents.Completed);
        var quest = await RunToSuccessAsync(user, url: null, WebhookEvents.None);

        Assert.Equal(["quest.progress", "quest.succeeded"], await TypesAsync(quest));
        await using var db = postgres.CreateContext();
        Assert.All(await db.WebhookDeliveries.Where(d => d.QuestId == quest).ToListAsync(Token), d => Assert.Equal(_receiver.Url, d.Url));
    }

    [Fact]
    public async Task A_cancelled_or_failed_quest_says_how_it_ended_and_a_second_run_is_not_a_second_start()
    {
        var user = await NewUserAsync();
        var cancelled = await QueuedAsync(user, _receiver.Url, WebhookEvents.Started | WebhookEvents.Completed);
        await WithTransitions(t => t.CancelByOwnerAsync(cancelled, user, Token));

        var failed = await QueuedAsync(user, _receiver.Url, WebhookEvents.Started | WebhookEvents.Completed);
        await WithTransitions(t => t.ClaimAsync(failed, TimeSpan.FromSeconds(-1), 3, "w1", Token));
        var second = Assert.IsType<ClaimOutcome.Claimed>(await WithTransitions(t => t.ClaimAsync(failed, Lease, 3, "w2", Token)));
        await WithTransitions(t => t.FailAsync(failed, second.Quest.Attempts, ErrorCodes.ProviderError, "no", [], Token));

        Assert.Equal(["quest.cancelled"], await TypesAsync(cancelled));
        Assert.Equal(["quest.started", "quest.failed"], await TypesAsync(failed));
    }

    [Fact]
    public async Task A_delivery_is_signed_and_after_a_500_sent_again_with_the_same_id_and_body()
    {
        var user = await NewUserAsync();
        var quest = await RunToSuccessAsync(user, _receiver.Url, WebhookEvents.Completed);
        _receiver.AnswerNext(500);
        await using var services = Services();
        var dispatcher = services.GetRequiredService<WebhookDispatcher>();

        Assert.Equal(1, await dispatcher.DispatchDueAsync(Token));
        Assert.Equal(0, await dispatcher.DispatchDueAsync(Token));
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(1, await dispatcher.DispatchDueAsync(Token));

        var received = _receiver.Requests.ToArray();
        Assert.Equal([500, 200], received.Select(r => r.Status));
        Assert.Equal(received[0].Id, received[1].Id);
        Assert.Equal(received[0].Body, received[1].Body);
        var secret = await SecretAsync(user);
        Assert.All(received, r => Assert.True(r.SignedWith(secret), "signed with the account's secret"));
        Assert.False(received[1].SignedWith(WebhookSignature.NewSecret()));

        using var body = JsonDocument.Parse(received[1].Body);
        Assert.Equal("quest.succeeded", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(quest, body.RootElement.GetProperty("data").GetProperty("id").GetGuid());
        Assert.Equal("Succeeded", body.RootElement.GetProperty("data").GetProperty("status").GetString());

        var delivery = await DeliveryAsync(quest);
        Assert.Equal(WebhookDeliveryState.Delivered, delivery.State);
        Assert.Equal(200, delivery.LastStatusCode);
        using var log = JsonDocument.Parse(delivery.AttemptLog);
        Assert.Equal([500, 200], log.RootElement.EnumerateArray().Select(a => a.GetProperty("status").GetInt32()));
        // The operators' timeline shows both attempts.
        await using var db = postgres.CreateContext();
        Assert.Equal([500, 200], await db.QuestSteps.Where(s => s.QuestId == quest && s.Kind == QuestStepKinds.Webhook).OrderBy(s => s.Id)
            .Select(s => s.HttpStatus ?? 0).ToListAsync(Token));
    }

    [Fact]
    public async Task A_receiver_that_keeps_failing_is_given_up_after_the_last_wait_and_410_gives_up_at_once()
    {
        var user = await NewUserAsync();
        var failing = await RunToSuccessAsync(user, _receiver.Url, WebhookEvents.Completed);
        await using var services = Services();
        var dispatcher = services.GetRequiredService<WebhookDispatcher>();
        _receiver.AnswerNext(503, 503, 503);
        for (var i = 0; i < 3; i++)
        {
            await dispatcher.DispatchDueAsync(Token);
            _time.Advance(TimeSpan.FromSeconds(6));
        }

        Assert.Equal(0, await dispatcher.DispatchDueAsync(Token));
        var given = await DeliveryAsync(failing);
        Assert.Equal((WebhookDeliveryState.Failed, 3, 503), (given.State, given.Attempts, given.LastStatusCode));

        var gone = await RunToSuccessAsync(user, _receiver.Url, WebhookEvents.Completed);
        _receiver.AnswerNext(410);
        await dispatcher.DispatchDueAsync(Token);
        Assert.Equal((WebhookDeliveryState.Failed, 1), ((await DeliveryAsync(gone)).State, (await DeliveryAsync(gone)).Attempts));
    }

    [Fact]
    public async Task A_redirect_is_not_followed()
    {
        var user = await NewUserAsync();
        var quest = await RunToSuccessAsync(user, _receiver.Url, WebhookEvents.Completed);
        _receiver.AnswerNext(307);
        await using var services = Services();
        await services.GetRequiredService<WebhookDispatcher>().DispatchDueAsync(Token);

        var delivery = await DeliveryAsync(quest);
        Assert.Equal((WebhookDeliveryState.Pending, 307), (delivery.State, delivery.LastStatusCode));
        Assert.Contains("redirect", delivery.LastError, StringComparison.Ordinal);
        Assert.Single(_receiver.Requests);
    }

    [Fact]
    public async Task An_address_outside_the_allowed_networks_is_never_dialled_even_when_it_was_stored()
    {
        // 127.0.0.2 is not in the allowed 127.0.0.1/32: a URL that passed a check once (or a name re-pointed since)
        // is refused where the connection is made.
        using var bystander = new TcpListener(IPAddress.Parse("127.0.0.2"), 0);
        bystander.Start();
        var connections = 0;
        _ = Task.Run(async () =>
        {
            using var client = await bystander.AcceptTcpClientAsync(Token);
            Interlocked.Increment(ref connections);
        }, Token);
        var user = await NewUserAsync();
        var quest = await RunToSuccessAsync(user, $"http://127.0.0.2:{((IPEndPoint)bystander.LocalEndpoint).Port}/hook", WebhookEvents.Completed);
        await using var services = Services();
        await services.GetRequiredService<WebhookDispatcher>().DispatchDueAsync(Token);

        var delivery = await DeliveryAsync(quest);
        Assert.Null(delivery.LastStatusCode);
        Assert.Contains("no public address", delivery.LastError, StringComparison.Ordinal);
        Assert.Equal(0, connections);
    }

    [Fact]
    public async Task The_log_forgets_ended_deliveries_after_its_keep_time_but_never_a_pending_one()
    {
        var user = await NewUserAsync();
        var delivered = await RunToSuccessAsync(user, _receiver.Url, WebhookEvents.Completed);
        await using var services = Services();
        var dispatcher = services.GetRequiredService<WebhookDispatcher>();
        await dispatcher.DispatchDueAsync(Token);
        var pending = await RunToSuccessAsync(user, _receiver.Url, WebhookEvents.Completed);

        _time.Advance(TimeSpan.FromDays(29));
        await dispatcher.PruneAsync(Token);
        Assert.Equal(WebhookDeliveryState.Delivered, (await DeliveryAsync(delivered)).State);

        _time.Advance(TimeSpan.FromDays(2));
        await dispatcher.PruneAsync(Token);
        await using var db = postgres.CreateContext();
        Assert.False(await db.WebhookDeliveries.AnyAsync(d => d.QuestId == delivered, Token));
        Assert.True(await db.WebhookDeliveries.AnyAsync(d => d.QuestId == pending && d.State == WebhookDeliveryState.Pending, Token));
    }

    /// <summary>
    /// A dispatcher for this test. The outbox is shared with the other tests of the class (they run one after
    /// another): what they left pending is set aside first, so this test's counts are its own.
    /// </summary>
    private ServiceProvider Services()
    {
        using (var db = postgres.CreateContext())
        {
            db.WebhookDeliveries.Where(d => d.State == WebhookDeliveryState.Pending && !_mine.Contains(d.UserId))
                .ExecuteUpdate(u => u.SetProperty(d => d.State, WebhookDeliveryState.Failed));
        }

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Webhooks:AllowedNetworks"] = "127.0.0.1/32",
            ["Webhooks:RetryDelays"] = "00:00:05,00:00:05",
            ["Webhooks:AttemptTimeout"] = "00:00:05",
        }).Build());
        services.AddLogging();
        services.AddSingleton<TimeProvider>(_time);
        services.AddDbContext<ImageGenDbContext>(o =>
        {
            o.UseNpgsql(postgres.ConnectionString);
            ImageGenDbContext.Configure(o);
        });
        services.AddOptions<ImageSigningOptions>().Configure(o => o.SigningKey = "test-signing-key-0123456789abcdef");
        services.AddSingleton<ImageGen.Core.Storage.IImageStore>(new ImageGen.Core.Storage.FileSystemImageStore(Path.Combine(Path.GetTempPath(), "imagegen-unused-store")));
        services.AddSingleton<ImageUrlSigner>();
        Api.Extensions.AddWebhookDelivery(services);
        return services.BuildServiceProvider();
    }

    private async Task<Guid> RunToSuccessAsync(Guid user, string? url, WebhookEvents events)
    {
        var id = await QueuedAsync(user, url, events);
        var claimed = Assert.IsType<ClaimOutcome.Claimed>(await WithTransitions(t => t.ClaimAsync(id, Lease, 3, "worker", Token)));
        Assert.True(await WithTransitions(t => t.RecordProgressAsync(id, claimed.Quest.Attempts, 0.5, "Painting", [], Token)));
        Assert.NotNull(await WithTransitions(t => t.SucceedAsync(claimed.Quest, [], 3, TimeSpan.FromSeconds(1), 1, [], Token)));
        return id;
    }

    private async Task<Guid> QueuedAsync(Guid user, string? url, WebhookEvents events)
    {
        var quest = new Quest
        {
            Id = Guid.CreateVersion7(),
            UserId = user,
            Prompt = "a lighthouse",
            Model = "local-sketch",
            Width = 64,
            Height = 64,
            Parameters = new QuestParameters { Width = 64, Height = 64 },
            Cost = 3,
            WebhookUrl = url,
            WebhookEvents = events,
        };
        Assert.IsType<SubmitOutcome.Accepted>(await WithTransitions(t => t.EnqueueAsync(quest, null, null, Token)));
        return quest.Id;
    }

    private async Task<T> WithTransitions<T>(Func<QuestTransitions, Task<T>> use)
    {
        await using var db = postgres.CreateContext();
        return await use(new QuestTransitions(db, _time));
    }

    private async Task<Guid> NewUserAsync(string? defaultUrl = null, WebhookEvents defaultEvents = WebhookEvents.None)
    {
        await using var db = postgres.CreateContext();
        var user = ThrowawayPostgres.NewUser("hooks");
        db.Users.Add(user);
        db.CreditEntries.Add(CreditLedger.Entry(user.Id, CreditEntryKind.Grant, 100, DateTimeOffset.UtcNow, reason: "test grant"));
        db.WebhookEndpoints.Add(new WebhookEndpoint { UserId = user.Id, Secret = WebhookSignature.NewSecret(), Url = defaultUrl, Events = defaultEvents, UpdatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync(Token);
        _mine.Add(user.Id);
        return user.Id;
    }

    private async Task<string> SecretAsync(Guid user)
    {
        await using var db = postgres.CreateContext();
        return (await db.WebhookEndpoints.SingleAsync(e => e.UserId == user, Token)).Secret;
    }

    private async Task<List<string>> TypesAsync(Guid quest)
    {
        await using var db = postgres.CreateContext();
        return await db.WebhookDeliveries.Where(d => d.QuestId == quest).OrderBy(d => d.CreatedAt).ThenBy(d => d.Type == "quest.started" ? 0 : d.Type == "quest.progress" ? 1 : 2)
            .Select(d => d.Type).ToListAsync(Token);
    }

    private async Task<WebhookDelivery> DeliveryAsync(Guid quest)
    {
        await using var db = postgres.CreateContext();
        return await db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.QuestId == quest, Token);
    }

    public ValueTask DisposeAsync() => _receiver.DisposeAsync();
}
