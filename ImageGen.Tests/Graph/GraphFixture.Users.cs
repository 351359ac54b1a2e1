using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Aspire.Hosting;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ImageGen.Tests.Graph;

/// <summary>Accounts, sign-ins, hub connections and quests as a test drives them through the gateway.</summary>
public partial class GraphFixture
{
    /// <summary>
    /// A new account, its email address verified through the mail it was sent (so it holds the sign-up grant), signed
    /// in. It registers, signs in and calls from an address of its own, as a real user would, so per-address limits
    /// never make one test fail because of another.
    /// </summary>
    public async Task<TestUser> CreateUserAsync(CancellationToken cancellationToken, string? email = null)
    {
        email ??= $"user-{Guid.NewGuid():N}@graph.test";
        var client = ClientFrom(FreshLoopbackAddress());
        try
        {
            using var response = await client.PostAsJsonAsync("/api/auth/register", new { email, password = UserPassword }, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"Registering {email} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }

            await VerifyEmailAsync(client, email, cancellationToken);
            return await LoginAsync(email, UserPassword, cancellationToken, client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Verifies <paramref name="email"/> as its owner does: takes the link from the verification mail in the development
    /// mail server and sends its user and token to the API (what the link's page does). Returns the credits granted.
    /// </summary>
    public async Task<int> VerifyEmailAsync(HttpClient client, string email, CancellationToken cancellationToken)
    {
        var link = await Inbox.WaitForLinkAsync(email, "/account/verify-email", cancellationToken);
        using var verified = await client.PostAsJsonAsync("/api/auth/verify-email",
            new { userId = DevInbox.Query(link, "user"), token = DevInbox.Query(link, "token") }, cancellationToken);
        if (!verified.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Verifying {email} failed: {(int)verified.StatusCode} {await verified.Content.ReadAsStringAsync(cancellationToken)}");
        }

        return (await ReadAsync<VerifyEmailResponse>(verified, cancellationToken)).Granted;
    }

    /// <summary>A loopback address (127.0.0.0/8) no other test is likely to use.</summary>
    public static IPAddress FreshLoopbackAddress() =>
        new([127, (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(2, 255)]);

    /// <summary>
    /// A client whose connections come from another loopback address (127.0.0.0/8), so the gateway sees a different
    /// caller address: per-address limits can be tested without touching other tests' budgets. With
    /// <paramref name="followRedirects"/> false, a redirect is the answer read.
    /// </summary>
    public HttpClient ClientFrom(IPAddress source, Uri? address = null, bool followRedirects = true) =>
        new(new SocketsHttpHandler
        {
            AllowAutoRedirect = followRedirects,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, cancellationToken);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        { BaseAddress = address ?? GatewayAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Signs in; the returned user calls through <paramref name="client"/> (which it then owns), or a new client.</summary>
    public async Task<TestUser> LoginAsync(string email, string password, CancellationToken cancellationToken, HttpClient? client = null)
    {
        client ??= new HttpClient { BaseAddress = GatewayAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var login = await client.PostAsJsonAsync("/api/auth/login", new { email, password }, cancellationToken);
        if (login.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"Signing in {email} failed: {(int)login.StatusCode} {await login.Content.ReadAsStringAsync(cancellationToken)}");
        }

        var tokens = await ReadAsync<TokenResponse>(login, cancellationToken);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        var me = (await client.GetFromJsonAsync<MeDto>("/api/me", Json, cancellationToken))!;
        return new TestUser(me.Id, email, password, tokens.AccessToken, tokens.RefreshToken, client);
    }

    /// <summary>
    /// A user's SignalR connection to the quest hub through the gateway (WebSockets pass through YARP), or straight to
    /// <paramref name="address"/>.
    /// </summary>
    public async Task<HubConnection> ConnectHubAsync(TestUser user, CancellationToken cancellationToken, Uri? address = null)
    {
        var connection = BuildHub(address ?? GatewayAddress, user.AccessToken);
        await connection.StartAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(15), cancellationToken);
        return connection;
    }

    /// <summary>
    /// A quest hub connection, not started, as every client must make it with API replicas (the test graph runs two):
    /// WebSockets, no negotiate request; with the token when there is one.
    /// </summary>
    public static HubConnection BuildHub(Uri address, string? accessToken) => new HubConnectionBuilder()
        .WithUrl(new Uri(address, "/hubs/quests"), o =>
        {
            o.SkipNegotiation = true;
            o.Transports = HttpTransportType.WebSockets;
            o.AccessTokenProvider = () => Task.FromResult(accessToken);
        })
        .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()))
        .Build();

    /// <summary>Submits a quest as the user and polls until it ends; fails the test unless it succeeded.</summary>
    public async Task<QuestDto> CreateAndWaitAsync(TestUser user, object request, CancellationToken cancellationToken)
    {
        var quest = await SubmitAndWaitAsync(user, request, cancellationToken);
        // When it did not, the failure says how it ended and why (the user's own explanation).
        Assert.True(quest.Status == QuestStatus.Succeeded, $"quest {quest.Id} ({quest.Model}) ended {quest.Status}: {quest.Error?.Code} {quest.Error?.Message}");
        return quest;
    }

    /// <summary>Submits a quest as the user (asserting 202) and polls until it ends, however it ends.</summary>
    public async Task<QuestDto> SubmitAndWaitAsync(TestUser user, object request, CancellationToken cancellationToken)
    {
        using var response = await user.Client.PostAsJsonAsync("/api/quests", request, cancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await WaitForEndAsync(user, (await ReadAsync<QuestDto>(response, cancellationToken)).Id, cancellationToken);
    }

    /// <summary>Polls a quest (bounded by <see cref="QuestTimeout"/>) until it reaches a terminal state.</summary>
    public async Task<QuestDto> WaitForEndAsync(TestUser user, Guid questId, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(QuestTimeout);
        while (true)
        {
            var quest = (await user.Client.GetFromJsonAsync<QuestDto>($"/api/quests/{questId}", Json, deadline.Token))!;
            if (quest.Status.IsTerminal())
            {
                return quest;
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    public async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken) =>
        (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;
}
