// Starts Blazor with the circuit's connection straight on WebSockets. Without a negotiate request first (which another
// web instance could answer), a circuit is one connection, and the gateway's affinity cookie keeps it, its reconnects
// and the page's other requests on the instance that holds the circuit.
Blazor.start({
    circuit: {
        configureSignalR: builder => builder.withUrl('_blazor', { skipNegotiation: true, transport: 1 /* WebSockets */ }),
    },
});
