using ImageGen.Core.Catalog;
using System.Diagnostics.Metrics;
using ImageGen.Api.Services;
using ImageGen.Api.Webhooks;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Data.Credits;
using ImageGen.Data.Queue;
using ImageGen.Data.Quests;
using ImageGen.ServiceDefaults.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ImageGen.Tests.Database;

/// <summary>
/// Redis failing at the instant after a submit committed: the quest and its reservation are stored, so the answer is
/// accepted (not "nothing was saved"), and the reconciler's sweep is what sends it.
/// </summary>
[Collection(DatabaseCollection.Name)]
public sealed class QuestSubmissionTests(ThrowawayPostgres postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_submit_committed_while_redis_is_unreachable_is_accepted_and_left_for_the_reconciler()
    {
        // A Redis that never answers: nothing listens on the port, and each command fails at once.
        using var deadRedis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { { "127.0.0.1", UnusedPort() } },
            AbortOnConnectFail = false,
            ConnectTimeout = 200,
            AsyncTimeout = 500,
            BacklogPolicy = BacklogPolicy.FailFast,
        });
        using var meters = new MeterFactory();
        var userId = await NewUserAsync();
        await using var db = postgres.CreateContext();
        await using var services = new ServiceCollection().AddScoped(_ => postgres.CreateContext()).BuildServiceProvider();
        using var defaults = new DefaultFallbacks(services.GetRequiredService<IServiceScopeFactory>(), ModelCatalog.Default);
        var submission = new QuestSubmission(new QuestTransitions(db, TimeProvider.System), new QuestInputs(db, TimeProvider.System),
            new QuestWebhooks(db, new WebhookAddressPolicy(Options.Create(new WebhookOptions()))), new QuestQueue(deadRedis),
            TimeProvider.System, new ImageGenMetrics(meters), ModelCatalog.Default, defaults, NullLogger<QuestSubmission>.Instance);
        var request = new CreateQuestRequest { Prompt = "sent while Redis is down", Model = "local-sketch", Width = 64, Height = 64 };

        var outcome = await submission.SubmitAsync(new QuestOrder(userId, request), Token);

        var quest = Assert.IsType<SubmitOutcome.Accepted>(outcome).Quest;
        await using var check = postgres.CreateContext();
        Assert.Equal(QuestStatus.Queued, (await check.Quests.AsNoTracking().SingleAsync(q => q.Id == quest.Id, Token)).Status);
        Assert.Equal(100 - quest.Cost, await check.BalanceAsync(userId, Token));
        // The reconciler's sweep finds it once it has waited past the re-send age.
        var swept = await new QuestTransitions(check, TimeProvider.System).TakeStaleQueuedAsync(DateTimeOffset.UtcNow.AddSeconds(1), 1000, Token);
        Assert.Contains(quest.Id, swept);
    }

    private async Task<Guid> NewUserAsync()
    {
        await using var db = postgres.CreateContext();
        var user = ThrowawayPostgres.NewUser("outbox");
        db.Users.Add(user);
        db.CreditEntries.Add(CreditLedger.Entry(user.Id, CreditEntryKind.Grant, 100, DateTimeOffset.UtcNow, reason: "test grant"));
        await db.SaveChangesAsync(Token);
        return user.Id;
    }

    private static int UnusedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class MeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}
