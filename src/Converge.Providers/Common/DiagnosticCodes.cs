namespace Converge.Providers.Common;

/// <summary>
/// The CVG4xxx codes providers report while parsing specs. Each has a page in <c>docs/errors/</c>;
/// the numbers are stable once released, so add new ones at the end.
/// </summary>
public static class DiagnosticCodes
{
    /// <summary>A property the resource type does not have (reported at the key, with did-you-mean).</summary>
    public const string UnknownProperty = "CVG4001";

    /// <summary>A required property is missing (reported at the resource).</summary>
    public const string MissingProperty = "CVG4002";

    /// <summary>A value of the wrong kind: a list where a string belongs, a map where a list belongs.</summary>
    public const string WrongKind = "CVG4003";

    /// <summary>A mode that is not 3–4 octal digits.</summary>
    public const string InvalidMode = "CVG4004";

    /// <summary>A boolean that is not <c>true</c> or <c>false</c>.</summary>
    public const string InvalidBool = "CVG4005";

    /// <summary>A value outside a fixed set of choices (<c>ensure: presnt</c>).</summary>
    public const string InvalidChoice = "CVG4006";

    /// <summary>A value that should be an integer and is not.</summary>
    public const string InvalidInteger = "CVG4007";

    /// <summary>A duration that is not a positive number of seconds, minutes or hours.</summary>
    public const string InvalidDuration = "CVG4008";

    /// <summary>A path that is not absolute and normalized (titles of file-like resources, <c>creates</c>, <c>cwd</c>).</summary>
    public const string InvalidPath = "CVG4009";

    /// <summary>Two properties that cannot be set together (<c>content</c> and <c>source</c>).</summary>
    public const string ConflictingProperties = "CVG4010";

    /// <summary>A command that is empty, or a <c>validate</c> command without the <c>%</c> placeholder.</summary>
    public const string InvalidCommand = "CVG4011";

    /// <summary>A user or group that is neither a valid name nor a numeric id.</summary>
    public const string InvalidPrincipal = "CVG4012";

    /// <summary>A warning: a property that has no effect in this combination (<c>content</c> with <c>ensure: absent</c>).</summary>
    public const string IneffectiveProperty = "CVG4013";

    /// <summary>A regular expression (<c>match</c>, <c>after</c>, <c>before</c>) that does not compile.</summary>
    public const string InvalidRegex = "CVG4014";

    /// <summary>A line resource's <c>text</c> that contains a line break: a line resource manages exactly one line.</summary>
    public const string LineBreakInLine = "CVG4015";

    /// <summary>A package title that is not a Debian package name (CVG4140–CVG4159 belong to <c>package</c>).</summary>
    public const string InvalidPackageName = "CVG4140";

    /// <summary>A package <c>ensure</c> that starts with a digit but is not a Debian version string.</summary>
    public const string InvalidPackageVersion = "CVG4141";

    /// <summary>A package <c>ensure</c> that is neither a known word nor a version (<c>instaled</c>), with did-you-mean.</summary>
    public const string InvalidPackageEnsure = "CVG4142";

    /// <summary>A package <c>provider</c> this build does not implement.</summary>
    public const string UnknownPackageProvider = "CVG4143";

    /// <summary>A user or group name that is not valid (Debian's NAME_REGEX, at most 32 characters): titles, <c>gid</c>, <c>groups</c>, <c>members</c>.</summary>
    public const string InvalidAccountName = "CVG4100";

    /// <summary>A <c>uid</c> or <c>gid</c> that is negative or above 4294967294.</summary>
    public const string InvalidAccountId = "CVG4101";

    /// <summary>A <c>password</c> that is not a crypt(3) hash (or a locked marker such as <c>!</c>).</summary>
    public const string InvalidPasswordHash = "CVG4102";

    /// <summary>An <c>expiry</c> that is neither a date YYYY-MM-DD nor <c>absent</c>.</summary>
    public const string InvalidExpiry = "CVG4103";

    /// <summary>A <c>comment</c> (GECOS field) containing ':' or a line break, which would corrupt /etc/passwd.</summary>
    public const string InvalidComment = "CVG4104";

    /// <summary>A cron schedule that cron would reject: not five fields or a macro, or a field out of range.</summary>
    public const string InvalidCronSchedule = "CVG4120";

    /// <summary>A cron command or environment entry that cannot be one crontab line (a line break, a bad variable name).</summary>
    public const string InvalidCronLine = "CVG4121";

    /// <summary>A cron title that cannot be a marker, or (with <c>target: crond</c>) a file name cron would skip.</summary>
    public const string InvalidCronName = "CVG4122";

    /// <summary>An SSH public key that is malformed: unknown type, bad base64, or a blob of another type.</summary>
    public const string InvalidSshKey = "CVG4125";

    /// <summary>An <c>authorized_key</c> option that sshd would not parse (bad name, unbalanced quotes, a line break).</summary>
    public const string InvalidSshKeyOption = "CVG4126";

    /// <summary>A service title that is not a service name (CVG4160–CVG4179 belong to <c>service</c>).</summary>
    public const string InvalidServiceName = "CVG4160";

    /// <summary>A service <c>provider</c> this build does not implement.</summary>
    public const string UnknownServiceProvider = "CVG4161";
}
