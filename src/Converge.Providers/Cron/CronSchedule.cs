using NCrontab;

namespace Converge.Providers.Cron;

/// <summary>
/// A cron schedule as written (five fields or an <c>@</c> macro), checked with NCrontab, the parser
/// closest to what Debian's cron accepts. Validation only: the text goes into the crontab unchanged.
/// </summary>
public static class CronSchedule
{
    /// <summary>The macros cron accepts instead of five fields.</summary>
    public static readonly IReadOnlyList<string> Macros =
        ["@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

    /// <summary>The five fields in crontab order, as the manifest names them.</summary>
    public static readonly IReadOnlyList<string> FieldNames = ["minute", "hour", "monthday", "month", "weekday"];

    /// <summary>
    /// Checks one field (<paramref name="index"/> into <see cref="FieldNames"/>); returns null when cron
    /// accepts it, else the reason. NCrontab is stricter than cron in one place, weekday 7 (Sunday, as
    /// 0): it is checked as 6, which has the same validity in every list and range. It is looser in
    /// another: a step of 0 (<c>*/0</c>), which cron rejects, so that is checked here.
    /// </summary>
    public static string? CheckField(int index, string field)
    {
        if (field.Length == 0) return $"{FieldNames[index]} must not be empty";
        foreach (var part in field.Split(','))
        {
            var slash = part.IndexOf('/');
            if (slash >= 0 && part[(slash + 1)..].Trim('0').Length == 0 && part.Length > slash + 1)
                return $"{FieldNames[index]} '{field}' has a step of 0; a step must be 1 or more";
        }
        var probe = index == 4 ? WeekdaySevenAsSix(field) : field;
        var fields = new[] { "*", "*", "*", "*", "*" };
        fields[index] = probe;
        try
        {
            CrontabSchedule.Parse(string.Join(' ', fields));
            return null;
        }
        catch (CrontabException e)
        {
            // NCrontab names fields [Minute], [Hour], [Day], [Month], [DayOfWeek]; use the manifest's names.
            var reason = Reword(e.Message.Replace(probe, field, StringComparison.Ordinal));
            if (index == 4) reason = reason.Replace("between 0 and 6", "between 0 and 7", StringComparison.Ordinal);
            return $"{FieldNames[index]} '{field}' is not valid: {reason}";
        }
    }

    /// <summary>Splits a schedule into its fields with their offsets in the text (for error positions).</summary>
    public static IReadOnlyList<(string Text, int Offset)> Split(string schedule)
    {
        var result = new List<(string, int)>();
        for (var i = 0; i < schedule.Length;)
        {
            if (schedule[i] is ' ' or '\t')
            {
                i++;
                continue;
            }
            var start = i;
            while (i < schedule.Length && schedule[i] is not (' ' or '\t')) i++;
            result.Add((schedule[start..i], start));
        }
        return result;
    }

    private static string Reword(string message) => message
        .Replace("[Minute]", "minute", StringComparison.Ordinal)
        .Replace("[Hour]", "hour", StringComparison.Ordinal)
        .Replace("[DayOfWeek]", "weekday", StringComparison.Ordinal)
        .Replace("[Day]", "monthday", StringComparison.Ordinal)
        .Replace("[Month]", "month", StringComparison.Ordinal)
        .Replace(" crontab field", " field", StringComparison.Ordinal)
        .TrimEnd('.');

    private static string WeekdaySevenAsSix(string field)
    {
        var chars = field.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var isolated = (i == 0 || !char.IsAsciiDigit(chars[i - 1])) && (i == chars.Length - 1 || !char.IsAsciiDigit(chars[i + 1]));
            // Only a 7 that is a value, not a step (*/7 is every 7th day, valid as written).
            var afterSlash = i > 0 && chars[i - 1] == '/';
            if (chars[i] == '7' && isolated && !afterSlash) chars[i] = '6';
        }
        return new string(chars);
    }
}
