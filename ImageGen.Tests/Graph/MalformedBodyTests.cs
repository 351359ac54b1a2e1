using System.Text;
using ImageGen.Tests.Unit;

namespace ImageGen.Tests.Graph;

/// <summary>
/// Every endpoint that takes a body, walked from the API's own endpoint table (so a new one is tried too), sent a
/// malformed body and a body of the wrong type through the gateway by a signed-in user of its own (operator endpoints
/// answer it 403 before reading the body; logout is left out, as it ignores its body): none answers 500.
/// </summary>
public sealed class MalformedBodyTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task No_endpoint_answers_500_to_a_malformed_or_mistyped_body()
    {
        var routes = ApiEndpointTable.Routes().Where(r => r.Method is "POST" or "PUT" or "PATCH"
            && !r.Path.StartsWith("/hubs", StringComparison.Ordinal) && r.Path != "/api/auth/logout").ToList();
        using var user = await graph.CreateUserAsync(Token);
        Assert.NotEmpty(routes);
        var answers = new List<string>();
        foreach (var (method, path) in routes)
        {
            var url = System.Text.RegularExpressions.Regex.Replace(path, @"\{[^}]+\}", Guid.NewGuid().ToString());
            foreach (var body in new[] { "{\"email\": ", "[1, 2, 3]" })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                using var response = await user.Client.SendAsync(request, Token);
                if ((int)response.StatusCode >= 500)
                {
                    answers.Add($"{method} {path} with {body}: {(int)response.StatusCode}");
                }
            }
        }

        Assert.True(answers.Count == 0, string.Join("\n", answers));
    }
}
