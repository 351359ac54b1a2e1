namespace ImageGen.AppHost.Infrastructure;

/// <summary>Redis or Postgres cannot be provided in the chosen mode. The message says what to do about it.</summary>
public sealed class InfrastructureException(string message) : Exception(message);
