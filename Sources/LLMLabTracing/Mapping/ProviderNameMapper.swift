public import LLMLabCore

/// Turns the provider a span names — `gen_ai.provider.name` (e.g. `gcp.vertex_ai`,
/// `azure.ai.openai`), the older `gen_ai.system` (e.g. `az.ai.openai`, `vertex_ai`),
/// OpenInference `llm.provider` / `llm.system`, Pydantic AI's model `system`
/// (`google-gla`, `google-vertex`) — into our ``Provider`` when it is one we price.
public enum ProviderNameMapper {
    /// Our provider for a span's provider name, or nil when we do not price that provider
    /// (the span then keeps the name it gave).
    public static func provider(for name: String) -> Provider? {
        switch name.lowercased() {
        case "openai": .openai
        case "azure.ai.openai", "az.ai.openai", "azure_openai", "azure-openai", "azure", "azure.openai": .azureOpenAI
        case "anthropic": .anthropic
        case "gcp.gemini", "gcp.vertex_ai", "gcp.gen_ai", "gemini", "vertex_ai", "google", "google_genai",
             "google-gla", "google-vertex", "vertexai", "google_vertexai", "google_genai_vertex": .gemini
        default: nil
        }
    }

    /// The stored provider string: our raw value when it maps, else the name as given.
    static func normalized(_ name: String) -> String {
        provider(for: name)?.rawValue ?? name
    }

    /// A provider guessed from a model name when the span names none (OpenInference spans
    /// from some frameworks carry only `llm.model_name`). Only unambiguous families.
    static func inferred(fromModel model: String) -> Provider? {
        let name = model.lowercased()
        if name.hasPrefix("gpt-") || name.hasPrefix("chatgpt") || name.hasPrefix("text-embedding-") || isOSeries(name) {
            return .openai
        }
        if name.hasPrefix("claude-") { return .anthropic }
        if name.hasPrefix("gemini-") { return .gemini }
        return nil
    }

    /// `o1`, `o3-mini`, `o4-mini-2025-04-16`…
    private static func isOSeries(_ name: String) -> Bool {
        let scalars = Array(name.utf8)
        guard scalars.count >= 2, scalars[0] == UInt8(ascii: "o"), (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(scalars[1]) else {
            return false
        }
        return scalars.count == 2 || scalars[2] == UInt8(ascii: "-")
    }
}
