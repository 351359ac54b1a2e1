namespace ImageGen.Data.Quests;

/// <summary>The lengths of a quest's text columns: text from outside is cut to these before it is stored.</summary>
public static class QuestLimits
{
    public const int MaxStatusTextLength = 200;
    public const int MaxErrorCodeLength = 64;
    public const int MaxErrorMessageLength = 1000;
    public const int MaxProviderJobIdLength = 200;
    public const int MaxPollingUrlLength = 2000;
}
