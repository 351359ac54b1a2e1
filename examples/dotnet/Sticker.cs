using System.ClientModel;
using OpenAI;
using OpenAI.Images;

// A sticker on a transparent background with gpt-image-2: OpenAI's options pass through as the SDK sends them.
internal static class Sticker
{
    public static async Task RunAsync()
    {
        var images = new ImageClient("gpt-image-2",
            new ApiKeyCredential(Environment.GetEnvironmentVariable("IMAGEGEN_API_KEY")!), // a personal API key, igk_...
            new OpenAIClientOptions { Endpoint = new Uri(Environment.GetEnvironmentVariable("IMAGEGEN_BASE_URL") ?? "http://localhost:8080/v1") });

#pragma warning disable OPENAI001 // the gpt-image options are marked experimental in the SDK
        GeneratedImage image = await images.GenerateImageAsync("a paper crane sticker", new ImageGenerationOptions
        {
            Size = new GeneratedImageSize(1024, 1024),
            Quality = GeneratedImageQuality.LowQuality,
            Background = GeneratedImageBackground.Transparent,
            ModerationLevel = GeneratedImageModerationLevel.Low,
            OutputFileFormat = GeneratedImageFileFormat.Webp,
            OutputCompressionFactor = 80,
        });
#pragma warning restore OPENAI001
        await File.WriteAllBytesAsync("sticker.webp", image.ImageBytes.ToArray());
        Console.WriteLine($"sticker.webp: {image.ImageBytes.ToMemory().Length} bytes");
    }
}
