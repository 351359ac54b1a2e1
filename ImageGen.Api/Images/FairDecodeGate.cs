namespace ImageGen.Api.Images;

/// <summary>
/// At most a fixed number of image decodes at once (one per core), shared fairly between users. No user holds more than
/// all slots but one (with two or more), so another user's upload finds a slot free at once however large one user's
/// burst of edits is; when a decode ends, the next slot goes to the waiting user with the fewest decodes running, the
/// earliest of them first.
/// </summary>
internal sealed class FairDecodeGate(int slots)
{
    /// <summary>Slots one user may hold at once: all but one, so one is always left for someone else.</summary>
    private readonly int _perUser = Math.Max(1, slots - 1);

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, int> _running = [];
    private readonly LinkedList<Waiter> _waiting = new();
    private int _busy;

    public static FairDecodeGate ForThisMachine { get; } = new(Environment.ProcessorCount);

    /// <summary>Decodes running now, and callers waiting for a slot (for tests and metrics).</summary>
    public (int Running, int Waiting) Load
    {
        get
        {
            lock (_lock)
            {
                return (_busy, _waiting.Count);
            }
        }
    }

    /// <summary>Waits for a slot for <paramref name="user"/>; dispose the answer to give it back.</summary>
    public async ValueTask<Slot> EnterAsync(Guid user, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_lock)
        {
            if (_busy < slots && _running.GetValueOrDefault(user) < _perUser)
            {
                Take(user);
                return new Slot(this, user);
            }

            waiter = new Waiter(user, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            waiter.Node = _waiting.AddLast(waiter);
        }

        try
        {
            await waiter.Granted.Task.WaitAsync(cancellationToken);
            return new Slot(this, user);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                if (waiter.Node!.List is not null)
                {
                    _waiting.Remove(waiter.Node);
                    throw;
                }
            }

            // Granted at the moment it was cancelled: the slot was taken for it, so give it on.
            Leave(user);
            throw;
        }
    }

    private void Take(Guid user)
    {
        _busy++;
        _running[user] = _running.GetValueOrDefault(user) + 1;
    }

    private void Leave(Guid user)
    {
        Waiter? next = null;
        lock (_lock)
        {
            _busy--;
            if (--_running[user] == 0)
            {
                _running.Remove(user);
            }

            // The waiter whose user runs the fewest decodes (and may run one more); among equals the one waiting longest
            // (the list is in order).
            for (var node = _waiting.First; node is not null; node = node.Next)
            {
                var running = _running.GetValueOrDefault(node.Value.User);
                if (running < _perUser && (next is null || running < _running.GetValueOrDefault(next.User)))
                {
                    next = node.Value;
                }
            }

            if (next is not null)
            {
                _waiting.Remove(next.Node!);
                Take(next.User);
            }
        }

        next?.Granted.TrySetResult();
    }

    private sealed class Waiter(Guid user, TaskCompletionSource granted)
    {
        public Guid User { get; } = user;
        public TaskCompletionSource Granted { get; } = granted;
        public LinkedListNode<Waiter>? Node { get; set; }
    }

    /// <summary>A decode slot, given back on dispose.</summary>
    public readonly struct Slot(FairDecodeGate gate, Guid user) : IDisposable
    {
        public void Dispose() => gate.Leave(user);
    }
}
