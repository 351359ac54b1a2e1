using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

/// <summary>
/// Account mail as its recipient meets it: the verification that brings the sign-up grant, and the password reset, each
/// read from the development mail server that received it over SMTP.
/// </summary>
public sealed partial class AccountTests
{
    [Fact]
    public async Task A_new_account_holds_nothing_until_its_address_is_verified_and_is_granted_once()
    {
        using var client = graph.ClientFrom(GraphFixture.FreshLoopbackAddress());
        var email = NewEmail();
        using (var registered = await client.PostAsJsonAsync("/api/auth/register", new { email, password = GraphFixture.UserPassword }, Token))
        {
            var created = await graph.ReadAsync<MeDto>(registered, Token);
            Assert.Equal((0, false), (created.Balance, created.EmailVerified));
        }

        using var user = await graph.LoginAsync(email, GraphFixture.UserPassword, Token, graph.ClientFrom(GraphFixture.FreshLoopbackAddress()));
        var before = (await user.Client.GetFromJsonAsync<MeDto>("/api/me", GraphFixture.Json, Token))!;
        Assert.Equal((0, false), (before.Balance, before.EmailVerified));
        using (var refused = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = "a kite", model = "local-sketch", width = 256, height = 256 }, Token))
        {
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.PaymentRequired, ErrorCodes.InsufficientCredits);
        }

        // The link from the mail, opened five times at once (a double click, a mail scanner): one grant.
        var link = await graph.Inbox.WaitForLinkAsync(email, "/account/verify-email", Token);
        var body = new { userId = DevInbox.Query(link, "user"), token = DevInbox.Query(link, "token") };
        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var response = await client.PostAsJsonAsync("/api/auth/verify-email", body, Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await graph.ReadAsync<VerifyEmailResponse>(response, Token);
        }));

        Assert.Equal(100, answers.Sum(a => a.Granted));
        Assert.All(answers, a => Assert.True(a.EmailVerified));
        var after = (await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token))!;
        Assert.Equal(100, after.Balance);
        Assert.Equal((CreditEntryKind.Grant, 100), (Assert.Single(after.Entries).Kind, after.Entries[0].Amount));
        using var again = await user.Client.PostAsync("/api/auth/resend-verification", null, Token);
        await ProblemAssert.IsProblemAsync(again, HttpStatusCode.Conflict, ErrorCodes.EmailAlreadyVerified);
    }

    [Fact]
    public async Task A_verification_link_works_only_for_its_own_account_and_unaltered()
    {
        using var client = graph.ClientFrom(GraphFixture.FreshLoopbackAddress());
        var (first, second) = (NewEmail(), NewEmail());
        foreach (var email in new[] { first, second })
        {
            using var registered = await client.PostAsJsonAsync("/api/auth/register", new { email, password = GraphFixture.UserPassword }, Token);
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        var (mine, theirs) = (await graph.Inbox.WaitForLinkAsync(first, "/account/verify-email", Token), await graph.Inbox.WaitForLinkAsync(second, "/account/verify-email", Token));
        var token = DevInbox.Query(mine, "token");
        foreach (var attempt in new object[]
        {
            new { userId = DevInbox.Query(theirs, "user"), token },                  // my token, another account
            new { userId = DevInbox.Query(mine, "user"), token = token[..^4] + "AAAA" }, // altered
            new { userId = DevInbox.Query(mine, "user"), token = "not base64url!" },
            new { userId = DevInbox.Query(mine, "user") },
            new { userId = Guid.NewGuid(), token },
        })
        {
            using var response = await client.PostAsJsonAsync("/api/auth/verify-email", attempt, Token);
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, ErrorCodes.InvalidMailToken, "token");
        }

        // Neither account was verified by any of that.
        foreach (var email in new[] { first, second })
        {
            using var user = await graph.LoginAsync(email, GraphFixture.UserPassword, Token, graph.ClientFrom(GraphFixture.FreshLoopbackAddress()));
            var me = (await user.Client.GetFromJsonAsync<MeDto>("/api/me", GraphFixture.Json, Token))!;
            Assert.Equal((0, false), (me.Balance, me.EmailVerified));
        }
    }

    [Fact]
    public async Task A_password_reset_answers_alike_for_any_address_and_its_link_sets_the_password_once()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var client = graph.ClientFrom(GraphFixture.FreshLoopbackAddress());
        var unknown = NewEmail();

        using var known = await client.PostAsJsonAsync("/api/auth/forgot-password", new { email = user.Email }, Token);
        using var stranger = await client.PostAsJsonAsync("/api/auth/forgot-password", new { email = unknown }, Token);
        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted), (known.StatusCode, stranger.StatusCode));
        Assert.Equal(await known.Content.ReadAsStringAsync(Token), await stranger.Content.ReadAsStringAsync(Token));

        var link = await graph.Inbox.WaitForLinkAsync(user.Email, "/account/reset-password", Token);
        var reset = new { userId = DevInbox.Query(link, "user"), token = DevInbox.Query(link, "token"), newPassword = "Reset-Passw0rd-1" };
        using (var done = await client.PostAsJsonAsync("/api/auth/reset-password", reset, Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        }

        // The old sessions ended; the old password no longer works, the new one does; the link works once.
        Assert.Equal(HttpStatusCode.Unauthorized, (await user.Client.GetAsync("/api/quests", Token)).StatusCode);
        using (var old = await client.PostAsJsonAsync("/api/auth/login", new { email = user.Email, password = GraphFixture.UserPassword }, Token))
        {
            await ProblemAssert.IsProblemAsync(old, HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
        }

        using var signedIn = await graph.LoginAsync(user.Email, "Reset-Passw0rd-1", Token, graph.ClientFrom(GraphFixture.FreshLoopbackAddress()));
        using (var twice = await client.PostAsJsonAsync("/api/auth/reset-password", new { reset.userId, reset.token, newPassword = "Second-Passw0rd-2" }, Token))
        {
            await ProblemAssert.IsProblemAsync(twice, HttpStatusCode.BadRequest, ErrorCodes.InvalidMailToken, "token");
        }

        // Nothing was mailed to the address without an account.
        Assert.Empty(await graph.Inbox.MessagesToAsync(unknown, Token));
    }

    [Fact]
    public async Task Mail_to_one_address_is_capped_per_hour_whoever_asks_and_whether_or_not_it_has_an_account()
    {
        foreach (var email in new[] { (await graph.CreateUserAsync(Token)).Email, NewEmail() })
        {
            var codes = new List<HttpStatusCode>();
            for (var i = 0; i < 4; i++)
            {
                // From a new address each time: the cap is the email's, not the caller's.
                using var client = graph.ClientFrom(GraphFixture.FreshLoopbackAddress());
                using var response = await client.PostAsJsonAsync("/api/auth/forgot-password", new { email }, Token);
                codes.Add(response.StatusCode);
                if (i == 3)
                {
                    await ProblemAssert.IsProblemAsync(response, HttpStatusCode.TooManyRequests, ErrorCodes.MailLimit);
                }
            }

            Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests], codes);
        }
    }

    [Theory]
    [InlineData("{}", ErrorCodes.Required, "email")]
    [InlineData("""{"email":"not-an-address"}""", ErrorCodes.InvalidEmail, "email")]
    public async Task A_reset_request_without_an_address_is_refused_by_field(string body, string code, string field)
    {
        using var client = graph.ClientFrom(GraphFixture.FreshLoopbackAddress());
        using var response = await client.PostAsync("/api/auth/forgot-password", new StringContent(body, new MediaTypeHeaderValue("application/json")), Token);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, code, field);
    }
}
