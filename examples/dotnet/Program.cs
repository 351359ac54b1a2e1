// dotnet run -- generate   (IMAGEGEN_API_KEY, optionally IMAGEGEN_BASE_URL)
// dotnet run -- receive    (IMAGEGEN_WEBHOOK_SECRET, optionally PORT)
switch (args.FirstOrDefault())
{
    case "generate":
        await Generate.RunAsync();
        break;
    case "receive":
        ReceiveWebhooks.Run();
        break;
    default:
        Console.Error.WriteLine("Say what to run: generate or receive.");
        return 2;
}

return 0;
