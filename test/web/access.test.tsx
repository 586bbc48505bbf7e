// The access block, without a browser: what a consumer needs to run their first query.
import { render } from 'preact-render-to-string';
import type { Access } from '../../web/src/api';
import { AccessPanel } from '../../web/src/access';

const access: Access = {
  account: '111111111111',
  region: 'eu-west-1',
  catalogId: '111111111111',
  database: 'sales_gold',
  table: 'orders',
  principal: 'arn:aws:iam::777777777777:role/analyst',
  expiresAt: '2026-12-13T10:00:00.000Z',
  columns: ['order_id', 'amount'],
  link: {
    account: '777777777777',
    region: 'eu-west-1',
    database: 'meshgate_sales',
    table: 'sales_gold__orders',
  },
  query: 'SELECT "order_id", "amount" FROM "meshgate_sales"."sales_gold__orders" LIMIT 10',
};

test('shows where the data is, the link, the expiry and the query with a copy button', () => {
  const html = render(<AccessPanel access={access} />);
  expect(html).toContain('meshgate_sales.sales_gold__orders');
  expect(html).toContain('2026-12-13T10:00:00.000Z');
  expect(html).toContain('order_id, amount');
  expect(html).toContain(
    'data-testid="access-query">SELECT &quot;order_id&quot;, &quot;amount&quot; FROM &quot;meshgate_sales&quot;.&quot;sales_gold__orders&quot; LIMIT 10',
  );
  expect(html).toMatch(/<button type="button" aria-label="Copy the Athena query">Copy<\/button>/);
  expect(html).not.toContain('Before the first query');
});

test("an unmanaged account's setup steps each get their command and a copy button", () => {
  const html = render(
    <AccessPanel
      access={{
        ...access,
        link: undefined,
        setup: {
          account: '888888888888',
          steps: [
            {
              what: 'Create the link.',
              command: 'aws glue create-table --catalog-id 888888888888',
            },
          ],
        },
      }}
    />,
  );
  expect(html).toContain('Before the first query');
  expect(html).toContain(
    'data-testid="access-step-1">aws glue create-table --catalog-id 888888888888',
  );
  expect(html).toContain('aria-label="Copy step 1"');
});
