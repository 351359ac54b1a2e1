using Microsoft.AspNetCore.Identity;

namespace ImageGen.Data.Entities;

/// <summary>An account. The user name is the email address.</summary>
public sealed class ImageGenUser : IdentityUser<Guid>
{
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The models a new image falls back to when its own is unavailable and the quest names none (off: null).</summary>
    public List<string>? DefaultFallbacks { get; set; }
}
