import { describe, expect, it } from 'vitest';
import {
  readCurrency,
  readDate,
  readNumber,
  readPercent,
  readUrl,
  readUser,
  truncate,
} from '../../src/domain/values.js';

const NOT_AN_AMOUNT = (s: string) => `"${s}" is not an amount; write it like $120,000 or 120k`;
const NOT_A_DATE = (s: string) => `"${s}" is not a date; write it like 2027-01-15 or 15 January 2027`;
const NOT_A_USER = (s: string) => `"${s}" is not a GitLab username; write it like @jane.doe`;
const NOT_A_LINK = (s: string) => `"${s}" is not a link; paste a full https:// address`;

describe('readCurrency', () => {
  it.each<[string, number]>([
    ['$1.2M', 1_200_000],
    ['1,200,000', 1_200_000],
    ['1.2m USD', 1_200_000],
    ['USD 950k', 950_000],
    ['US$ 1.2M', 1_200_000],
    ['US$1.2M', 1_200_000],
    ['$120,000', 120_000],
    ['120k', 120_000],
    ['$ 120K', 120_000],
    ['120 thousand', 120_000],
    ['1.2 million dollars', 1_200_000],
    ['$1.2MM', 1_200_000],
    ['1.5bn', 1_500_000_000],
    ['.5m', 500_000],
    ['1 200 000', 1_200_000],
    ['$1,234.56', 1234.56],
    ['$120k ARR', 120_000],
    ['$120k/yr', 120_000],
    ['~$1.2M', 1_200_000],
    ['approx. $950k', 950_000],
    ['about 75k', 75_000],
    ['0', 0],
    ['  $48.5k  ', 48_500],
  ])('reads %j as %j', (input, value) => {
    expect(readCurrency(input)).toEqual({ value });
  });

  it.each<[string, string]>([
    ['€950k', 'give the amount in US dollars (USD)'],
    ['EUR 950k', 'give the amount in US dollars (USD)'],
    ['950k eur', 'give the amount in US dollars (USD)'],
    ['£100,000', 'give the amount in US dollars (USD)'],
    ['C$ 100k', 'give the amount in US dollars (USD)'],
    ['CAD 100k', 'give the amount in US dollars (USD)'],
    ['¥12,000,000', 'give the amount in US dollars (USD)'],
    ['-$5,000', 'cannot be negative'],
    ['-5000', 'cannot be negative'],
    ['$-5k', 'cannot be negative'],
    ['USD -5k', 'cannot be negative'],
    ['(5,000)', 'cannot be negative'],
    ['−45k', 'cannot be negative'],
    ['100-200k', 'give one amount, not a range'],
    ['$100k-$200k', 'give one amount, not a range'],
    ['$2M - $3M', 'give one amount, not a range'],
    ['100k to 200k', 'give one amount, not a range'],
    ['$1.2m–1.5m', 'give one amount, not a range'],
    ['1.200.000', NOT_AN_AMOUNT('1.200.000')],
    ['1,2', NOT_AN_AMOUNT('1,2')],
    ['12,00', NOT_AN_AMOUNT('12,00')],
    ['abc', NOT_AN_AMOUNT('abc')],
    ['USD', NOT_AN_AMOUNT('USD')],
    ['$', NOT_AN_AMOUNT('$')],
    ['', NOT_AN_AMOUNT('')],
    ['TBD', NOT_AN_AMOUNT('TBD')],
    ['1.2 gazillion', NOT_AN_AMOUNT('1.2 gazillion')],
  ])('rejects %j: %s', (input, error) => {
    expect(readCurrency(input)).toEqual({ error });
  });
});

describe('readNumber', () => {
  it.each<[string, number]>([
    ['250', 250],
    ['1,200', 1200],
    ['1.5k', 1500],
    ['16.1k', 16_100],
    ['2.01k', 2010],
    ['3 thousand', 3000],
    ['250 users', 250],
    ['1,250 seats', 1250],
    ['40 licenses', 40],
    ['40 licences', 40],
    ['12 people', 12],
    ['2.5', 2.5],
    ['0', 0],
    [' 42 ', 42],
  ])('reads %j as %j', (input, value) => {
    expect(readNumber(input)).toEqual({ value });
  });

  it.each<[string, string]>([
    ['-5', 'cannot be negative'],
    ['(5)', 'cannot be negative'],
    ['100-200', 'give one number, not a range'],
    ['200 to 250 seats', 'give one number, not a range'],
    ['1,2', '"1,2" is not a number'],
    ['about 250', '"about 250" is not a number'],
    ['many', '"many" is not a number'],
    ['', '"" is not a number'],
  ])('rejects %j: %s', (input, error) => {
    expect(readNumber(input)).toEqual({ error });
  });
});

describe('readPercent', () => {
  it.each<[string, number]>([
    ['85%', 85],
    ['85 %', 85],
    ['85', 85],
    ['85 percent', 85],
    ['85pct', 85],
    ['68.5%', 68.5],
    ['0.85', 85],
    ['0.68', 68],
    ['.68', 68],
    ['0.685', 68.5],
    ['1.0', 100],
    ['0.5%', 0.5],
    ['1', 1],
    ['150%', 150],
    ['0', 0],
  ])('reads %j as %j', (input, value) => {
    expect(readPercent(input)).toEqual({ value });
  });

  it.each<[string, string]>([
    ['-5%', 'cannot be negative'],
    ['60-70%', 'give one percentage, not a range'],
    ['60% - 70%', 'give one percentage, not a range'],
    ['abc', '"abc" is not a percentage; write it like 68%'],
    ['68% (340 of 500)', '"68% (340 of 500)" is not a percentage; write it like 68%'],
    ['', '"" is not a percentage; write it like 68%'],
  ])('rejects %j: %s', (input, error) => {
    expect(readPercent(input)).toEqual({ error });
  });
});

describe('readDate', () => {
  it.each<[string, string]>([
    ['2027-01-15', '2027-01-15'],
    ['2027/01/15', '2027-01-15'],
    ['2027.01.15', '2027-01-15'],
    ['2027-1-5', '2027-01-05'],
    ['Jan 15, 2027', '2027-01-15'],
    ['Jan. 15, 2027', '2027-01-15'],
    ['January 15th, 2027', '2027-01-15'],
    ['january 15 2027', '2027-01-15'],
    ['Sept 1 2027', '2027-09-01'],
    ['15 January 2027', '2027-01-15'],
    ['15th of Jan 2027', '2027-01-15'],
    ['1st of March, 2026', '2026-03-01'],
    ['15-Jan-2027', '2027-01-15'],
    ['Friday, January 15, 2027', '2027-01-15'],
    ['on 2027-01-15', '2027-01-15'],
    ['2027-01-15 (tentative)', '2027-01-15'],
    // Numeric day/month orders only when they cannot be misread.
    ['25/03/2027', '2027-03-25'],
    ['25.03.2027', '2027-03-25'],
    ['03/25/2027', '2027-03-25'],
    ['04/04/2027', '2027-04-04'],
    ['29 Feb 2028', '2028-02-29'],
  ])('reads %j as %j', (input, value) => {
    expect(readDate(input)).toEqual({ value });
  });

  it.each<[string, string]>([
    [
      '03/04/2027',
      '"03/04/2027" could be 3 April 2027 or March 4, 2027; write the one you mean as 2027-04-03 or 2027-03-04',
    ],
    [
      '12/01/2027',
      '"12/01/2027" could be 12 January 2027 or December 1, 2027; write the one you mean as 2027-01-12 or 2027-12-01',
    ],
    ['2027-02-30', 'there is no such date as 30 February 2027'],
    ['29 Feb 2027', 'there is no such date as 29 February 2027'],
    ['31/06/2027', 'there is no such date as 31 June 2027'],
    ['2027-13-01', 'there is no month 13; write the date like 2027-01-15 or 15 January 2027'],
    ['13/13/2027', NOT_A_DATE('13/13/2027')],
    ['0/5/2027', NOT_A_DATE('0/5/2027')],
    ['January 2027', '"January 2027" needs a day too, e.g. 15 January 2027'],
    ['Jan. 2027', '"Jan. 2027" needs a day too, e.g. 15 Jan. 2027'],
    ['2027-03', '"2027-03" needs a day too, e.g. 2027-03-15 or 15 March 2027'],
    ['03/2027', '"03/2027" needs a day too, e.g. 2027-03-15 or 15 March 2027'],
    ['1/15/27', NOT_A_DATE('1/15/27')],
    ['Q1 2027', NOT_A_DATE('Q1 2027')],
    ['next year', NOT_A_DATE('next year')],
    ['Smarch 15 2027', NOT_A_DATE('Smarch 15 2027')],
    ['', NOT_A_DATE('')],
  ])('rejects %j: %s', (input, error) => {
    expect(readDate(input)).toEqual({ error });
  });
});

describe('readUser', () => {
  it.each<[string, string]>([
    ['@jane.doe', 'jane.doe'],
    ['jane.doe', 'jane.doe'],
    ['@jane_doe-2', 'jane_doe-2'],
    ['@jane.doe.', 'jane.doe'],
    ['<@jane>', 'jane'],
    ['https://gitlab.com/jane.doe', 'jane.doe'],
    ['https://gitlab.com/jane.doe/', 'jane.doe'],
  ])('reads %j as %j', (input, value) => {
    expect(readUser(input)).toEqual({ value });
  });

  it.each<string>([
    'Jane Doe',
    'Jane Doe (our SA)',
    'jane@example.com',
    '@',
    '@-jane',
    '@jane doe',
    'https://gitlab.com/groups/foo/bar',
    '',
  ])('rejects %j', (input) => {
    expect(readUser(input)).toEqual({ error: NOT_A_USER(input) });
  });
});

describe('readUrl', () => {
  it.each<[string, string]>([
    ['https://example.com', 'https://example.com'],
    ['http://example.com/a?b=1#c', 'http://example.com/a?b=1#c'],
    ['<https://x.io/path>', 'https://x.io/path'],
    ['[the account](https://x.io/001)', 'https://x.io/001'],
    ['  https://x.io  ', 'https://x.io'],
  ])('reads %j as %j', (input, value) => {
    expect(readUrl(input)).toEqual({ value });
  });

  it.each<string>([
    'example.com',
    'www.example.com',
    'ftp://x.io',
    'https://',
    'https:// example.com',
    'javascript:alert(1)',
    '',
  ])('rejects %j', (input) => {
    expect(readUrl(input)).toEqual({ error: NOT_A_LINK(input) });
  });
});

describe('error messages quote at most 40 characters of the input', () => {
  it('truncates long answers with an ellipsis', () => {
    const long = 'the customer has not told us yet, ask again next week';
    expect(readDate(long)).toEqual({ error: NOT_A_DATE(truncate(long)) });
    expect(truncate(long)).toHaveLength(40);
    expect(truncate(long).endsWith('…')).toBe(true);
    expect(truncate('  a \n  b ')).toBe('a b');
  });
});
