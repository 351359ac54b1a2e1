using ImageGen.ProviderSimulator;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.Services.AddSingleton<FaultProfiles>();
builder.Services.AddSingleton<SimulatorStats>();
builder.Services.AddSingleton<BflJobs>();
builder.Services.AddSingleton<MidjourneyTasks>();
builder.Services.AddSingleton(TimeProvider.System);

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapOpenAI();
app.MapBfl();
app.MapMidjourney();
app.MapSimulatorAdmin();

app.Run();
