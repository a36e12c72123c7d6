import { customerPage, escapeHtml } from './customer-page';

describe('customer page escaping', () => {
  it('escapes HTML special characters', () => {
    expect(escapeHtml(`<script>alert("x")</script>&'\``)).toBe('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;&#96;');
  });
  it('never puts a raw server value into the page', () => {
    const html = customerPage('"><script>alert(1)</script>');
    expect(html).not.toContain('"><script>alert(1)</script>');
    expect(html).toContain('&#34;&#62;&#60;script&#62;');
  });
});
