using Microsoft.AspNetCore.Identity;

namespace ImageGen.Data.Entities;

/// <summary>An account. The user name is the email address.</summary>
public sealed class ImageGenUser : IdentityUser<Guid>
{
    public DateTimeOffset CreatedAt { get; set; }
}
