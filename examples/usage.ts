/** The curl walk-through each example server prints. Never includes a configured password. */
export function usage(framework: string, url: string): string {
  const password = process.env.DEMO_PASSWORD === undefined ? 'wonderland' : '<your DEMO_PASSWORD>';
  const creds = `-H 'content-type: application/json' -d '{"username":"alice","password":"${password}"}'`;
  return [
    `Tessera ${framework} example on ${url}`,
    '',
    '# bearer tokens',
    `LOGIN=$(curl -s ${url}/login ${creds})`,
    `ACCESS=$(echo "$LOGIN" | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
    `REFRESH=$(echo "$LOGIN" | sed -E 's/.*"refresh_token":"([^"]+)".*/\\1/')`,
    `curl -s ${url}/protected -H "Authorization: Bearer $ACCESS"`,
    `curl -s -X POST ${url}/auth/refresh -H "Authorization: Bearer $REFRESH"`,
    `curl -s -X POST ${url}/logout -H "Authorization: Bearer $ACCESS"`,
    '',
    '# cookies (the CSRF value is echoed in X-CSRF-TOKEN on POST)',
    `curl -s -c jar.txt ${url}/login/cookies ${creds}`,
    `curl -s -b jar.txt ${url}/protected`,
    `curl -s -b jar.txt -c jar.txt -X POST ${url}/auth/refresh -H "X-CSRF-TOKEN: $(awk '$6=="csrf_refresh_token"{print $7}' jar.txt)"`,
    `curl -s -b jar.txt -c jar.txt -X POST ${url}/logout -H "X-CSRF-TOKEN: $(awk '$6=="csrf_access_token"{print $7}' jar.txt)"`,
  ].join('\n');
}
