// dotnet run -- generate   (IMAGEGEN_API_KEY, optionally IMAGEGEN_BASE_URL)
// dotnet run -- sticker    (the same)
// dotnet run -- receive    (IMAGEGEN_WEBHOOK_SECRET, optionally PORT)
switch (args.FirstOrDefault())
{
    case "generate":
        await Generate.RunAsync();
        break;
    case "sticker":
        await Sticker.RunAsync();
        break;
    case "receive":
        ReceiveWebhooks.Run();
        break;
    default:
        Console.Error.WriteLine("Say what to run: generate, sticker or receive.");
        return 2;
}

return 0;
