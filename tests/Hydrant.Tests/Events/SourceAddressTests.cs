using Hydrant.Events;

namespace Hydrant.Tests.Events;

public sealed class SourceAddressTests
{
    [Theory]
    [InlineData("10.0.0.1", "10.0.0.1")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("::ffff:192.0.2.1", "192.0.2.1")]
    [InlineData("2001:DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1")]
    [InlineData("::1", "::1")]
    public void Addresses_are_normalized(string input, string expected)
    {
        Assert.True(SourceAddress.TryNormalizeIp(input, out var normalized));
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData("08.1.250.216")]
    [InlineData("010.1.1.1")]
    [InlineData("1")]
    [InlineData("1.2.3")]
    [InlineData("256.1.1.1")]
    [InlineData("ec2.amazonaws.com")]
    [InlineData("fe80::1%eth0")]
    [InlineData("")]
    [InlineData(" 10.0.0.1")]
    public void Ambiguous_or_invalid_text_is_refused(string input)
    {
        Assert.False(SourceAddress.TryNormalizeIp(input, out _));
    }
}
