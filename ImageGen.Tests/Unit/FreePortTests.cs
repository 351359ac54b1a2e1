using System.Net;
using System.Net.Sockets;
using ImageGen.AppHost.Infrastructure;

namespace ImageGen.Tests.Unit;

/// <summary>
/// The ports the AppHost gives its local Redis, Postgres and object store, and the tests their own Postgres, are never
/// ones an outgoing connection can take first (the server would then fail to start: "port is taken").
/// </summary>
public sealed class FreePortTests
{
    [Fact]
    public void A_free_port_is_below_the_outgoing_range_and_can_be_listened_on()
    {
        var (first, _) = LocalProcesses.OutgoingPortRange();
        for (var i = 0; i < 20; i++)
        {
            var port = LocalProcesses.FreePort();
            Assert.InRange(port, 1024, first - 1);
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
        }
    }

    [Fact]
    public void A_port_someone_listens_on_is_not_given()
    {
        var taken = new List<TcpListener>();
        try
        {
            // Take most of what the next calls could give; they must still give only ports nobody listens on.
            for (var i = 0; i < 100; i++)
            {
                var port = LocalProcesses.FreePort();
                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                taken.Add(listener);
            }

            Assert.Equal(taken.Count, taken.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).Distinct().Count());
        }
        finally
        {
            taken.ForEach(l => l.Stop());
        }
    }
}
