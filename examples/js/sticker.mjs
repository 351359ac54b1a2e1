// A sticker on a transparent background with gpt-image-2: OpenAI's options pass through as the SDK sends them.
import { writeFile } from "node:fs/promises";
import OpenAI from "openai";

const client = new OpenAI({
  baseURL: process.env.IMAGEGEN_BASE_URL ?? "http://localhost:8080/v1",
  apiKey: process.env.IMAGEGEN_API_KEY, // a personal API key, igk_...
});

const result = await client.images.generate({
  model: "gpt-image-2",
  prompt: "a paper crane sticker",
  size: "1024x1024",
  quality: "low",
  background: "transparent",
  moderation: "low",
  output_format: "webp",
  output_compression: 80,
});
const bytes = Buffer.from(result.data[0].b64_json, "base64");
await writeFile("sticker.webp", bytes);
console.log(`sticker.webp: ${bytes.length} bytes (background: ${result.background})`);
