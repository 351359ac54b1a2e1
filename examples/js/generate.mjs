// Make an image with OpenAI's JavaScript SDK: only the base URL and the key differ from code written for OpenAI.
import { writeFile } from "node:fs/promises";
import OpenAI from "openai";

const client = new OpenAI({
  baseURL: process.env.IMAGEGEN_BASE_URL ?? "http://localhost:8080/v1",
  apiKey: process.env.IMAGEGEN_API_KEY, // a personal API key, igk_...
});

const result = await client.images.generate({
  model: "local-sketch",
  prompt: "a lighthouse on a cliff at night",
  size: "512x512",
});
const bytes = Buffer.from(result.data[0].b64_json, "base64");
await writeFile("lighthouse.png", bytes);
console.log(`lighthouse.png: ${bytes.length} bytes`);
