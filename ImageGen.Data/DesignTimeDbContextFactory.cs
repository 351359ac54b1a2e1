using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace ImageGen.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting a service. Never used at run time.</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<ImageGenDbContext>
{
    public ImageGenDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<ImageGenDbContext>().UseNpgsql("Host=localhost;Database=imagegen-db");
        ImageGenDbContext.Configure(options);
        return new ImageGenDbContext(options.Options);
    }
}
