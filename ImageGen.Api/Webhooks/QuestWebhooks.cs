using ImageGen.Core.Quests;
using ImageGen.Core.Webhooks;
using ImageGen.Data;
using ImageGen.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Api.Webhooks;

/// <summary>
/// A quest's own webhook, as a submit names it: checked (form, public address, a signing secret to sign with) and set
/// on the quest. A quest that names none goes to the account's default endpoint, if one is set when its events happen.
/// </summary>
internal sealed class QuestWebhooks(ImageGenDbContext db, WebhookAddressPolicy policy)
{
    /// <summary>Sets the quest's webhook from the request; the problems, by the request's field names, when it cannot.</summary>
    public async Task<IReadOnlyList<FieldError>> ApplyAsync(Quest quest, string? webhook, IReadOnlyList<string>? events, string urlField, string eventsField,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(webhook))
        {
            return events is null
                ? []
                : [new FieldError(eventsField, ErrorCodes.WebhookEventsInvalid, $"An event filter goes with a webhook: name one in '{urlField}', or set the filter of your default endpoint.")];
        }

        var errors = new List<FieldError>();
        if (!WebhookEventNames.TryParse(events, out var filter, out var unknown))
        {
            errors.Add(WebhooksApi.InvalidEvents(eventsField, unknown));
        }

        var url = webhook.Trim();
        if (await policy.CheckAsync(url, urlField, cancellationToken) is { } bad)
        {
            errors.Add(bad);
        }
        else if (!await db.WebhookEndpoints.AnyAsync(e => e.UserId == quest.UserId, cancellationToken))
        {
            errors.Add(new FieldError(urlField, ErrorCodes.WebhookSecretMissing,
                "Deliveries are signed: make your signing secret first (POST /api/webhooks/secret, or set a default endpoint on your account page)."));
        }

        quest.WebhookUrl = url;
        quest.WebhookEvents = filter;
        return errors;
    }
}
