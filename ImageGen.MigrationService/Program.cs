using ImageGen.Data;
using ImageGen.MigrationService;

var builder = Host.CreateApplicationBuilder(args);

builder.AddServiceDefaults();
builder.AddImageGenDatabase();
builder.Services.AddImageGenIdentity();
builder.Services.AddImageGenDataProtection();
builder.Services.AddOptions<AdminSeedOptions>().BindConfiguration(AdminSeedOptions.Section);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddHostedService<Migrator>();

builder.Build().Run();
