using ImageGen.Data;
using ImageGen.Data.Entities;
using ImageGen.MigrationService;
using Microsoft.AspNetCore.Identity;

var builder = Host.CreateApplicationBuilder(args);

builder.AddServiceDefaults();
builder.AddImageGenDatabase();
builder.Services.AddIdentityCore<ImageGenUser>(IdentitySettings.Configure)
    .AddRoles<IdentityRole<Guid>>()
    .AddEntityFrameworkStores<ImageGenDbContext>();
builder.Services.AddImageGenDataProtection();
builder.Services.AddOptions<AdminSeedOptions>().BindConfiguration(AdminSeedOptions.Section);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddHostedService<Migrator>();

builder.Build().Run();
