using ImageGen.Data;
using ImageGen.MigrationService;

var builder = Host.CreateApplicationBuilder(args);

builder.AddServiceDefaults();
builder.AddImageGenDatabase();
builder.Services.AddHostedService<Migrator>();

builder.Build().Run();
