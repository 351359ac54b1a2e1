using ImageGen.Core.Accounts;

namespace ImageGen.Web.Services;

/// <summary>The signed-in person's account summary for one circuit; pages ask it to refresh after spending.</summary>
public sealed class AccountState(ImageGenApiClient api)
{
    public MeDto? Me { get; private set; }

    public event Action? Changed;

    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        var result = await api.GetMeAsync(cancellationToken);
        Me = result.Value;
        Changed?.Invoke();
    }
}
