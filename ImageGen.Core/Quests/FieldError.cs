namespace ImageGen.Core.Quests;

/// <summary>One problem with one field of a request: the field (camelCase, as on the wire), a stable code and a sentence for people.</summary>
public sealed record FieldError(string Field, string Code, string Message);
