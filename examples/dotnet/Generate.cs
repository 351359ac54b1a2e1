using System.ClientModel;
using OpenAI;
using OpenAI.Images;

// Make an image with OpenAI's .NET SDK: only the endpoint and the key differ from code written for OpenAI.
internal static class Generate
{
    public static async Task RunAsync()
    {
        var images = new ImageClient("local-sketch",
            new ApiKeyCredential(Environment.GetEnvironmentVariable("IMAGEGEN_API_KEY")!), // a personal API key, igk_...
            new OpenAIClientOptions { Endpoint = new Uri(Environment.GetEnvironmentVariable("IMAGEGEN_BASE_URL") ?? "http://localhost:8080/v1") });

        GeneratedImage image = await images.GenerateImageAsync("a lighthouse on a cliff at night",
            new ImageGenerationOptions { Size = new GeneratedImageSize(512, 512) });
        await File.WriteAllBytesAsync("lighthouse.png", image.ImageBytes.ToArray());
        Console.WriteLine($"lighthouse.png: {image.ImageBytes.ToMemory().Length} bytes");
    }
}
