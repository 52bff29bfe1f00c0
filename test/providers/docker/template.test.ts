import { describe, expect, it } from 'vitest';
import { containerServiceName, normalizeName } from '../../../src/providers/docker/naming.js';
import { TemplateError, parseRuleTemplate } from '../../../src/providers/docker/template.js';
import type { TemplateModel } from '../../../src/providers/docker/template.js';
import { fixture } from './fixtures.js';

const model: TemplateModel = {
  Name: 'web-myproj',
  ContainerName: 'myproj-web-1',
  Labels: { 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'myproj', 'app.domain': 'Example.Test' },
};

describe('normalizeName', () => {
  const cases = [
    { desc: 'underscore and dots', input: 'web_my.proj', expected: 'web-my-proj' },
    { desc: 'runs collapse to one dash', input: 'a__--..b', expected: 'a-b' },
    { desc: 'leading and trailing separators dropped', input: '/web_', expected: 'web' },
    { desc: 'letters of other scripts kept', input: 'café_ünïcode', expected: 'café-ünïcode' },
    { desc: 'case kept', input: 'MyApp', expected: 'MyApp' },
    { desc: 'only separators', input: '__', expected: '' },
  ];
  for (const testCase of cases) {
    it(testCase.desc, () => {
      expect(normalizeName(testCase.input)).toBe(testCase.expected);
    });
  }
});

describe('containerServiceName', () => {
  it('compose service then project', () => {
    expect(containerServiceName(fixture('replica-1'))).toBe('web-myproj');
  });

  it('container name without compose labels', () => {
    expect(containerServiceName(fixture('host'))).toBe('ha');
  });

  it('container name when one compose label is empty', () => {
    const info = fixture('host', { 'com.docker.compose.project': 'myproj', 'com.docker.compose.service': '' });
    expect(containerServiceName(info)).toBe('ha');
  });
});

describe('parseRuleTemplate render', () => {
  const cases = [
    { desc: "Traefik's default rule", source: 'Host(`{{ normalize .Name }}`)', expected: 'Host(`web-myproj`)' },
    { desc: 'plain field', source: '{{ .Name }}', expected: 'web-myproj' },
    { desc: 'container name', source: 'Host(`{{ .ContainerName }}.example.test`)', expected: 'Host(`myproj-web-1.example.test`)' },
    { desc: 'index of a compose label', source: 'Host(`{{ index .Labels "com.docker.compose.service" }}.example.test`)', expected: 'Host(`web.example.test`)' },
    { desc: 'missing label gives empty text', source: '{{ index .Labels "absent" }}', expected: '' },
    { desc: 'parenthesized call', source: '{{ normalize (index .Labels "com.docker.compose.project") }}', expected: 'myproj' },
    { desc: 'pipeline', source: '{{ index .Labels "app.domain" | lower }}', expected: 'example.test' },
    { desc: 'sprig argument order', source: '{{ trimPrefix "myproj-" .ContainerName }}', expected: 'web-1' },
    { desc: 'replace old new source', source: '{{ replace "-" "." .Name }}', expected: 'web.myproj' },
    { desc: 'trim markers', source: 'Host(`  {{- .Name -}}  `)', expected: 'Host(`web-myproj`)' },
    { desc: 'comment action', source: 'a{{/* note */}}b', expected: 'ab' },
    { desc: 'raw string literal', source: '{{ index .Labels `app.domain` }}', expected: 'Example.Test' },
    { desc: 'text only', source: 'PathPrefix(`/`)', expected: 'PathPrefix(`/`)' },
    { desc: 'string containing braces', source: '{{ "}}" }}', expected: '}}' },
  ];
  for (const testCase of cases) {
    it(testCase.desc, () => {
      expect(parseRuleTemplate(testCase.source).render(model)).toBe(testCase.expected);
    });
  }
});

describe('parseRuleTemplate errors', () => {
  const cases = [
    { desc: 'unknown function', source: '{{ slugify .Name }}', message: 'unknown function "slugify"' },
    { desc: 'unknown field', source: '{{ .Service }}', message: 'unknown field ".Service"' },
    { desc: 'control action', source: '{{ if .Name }}x{{ end }}', message: 'unknown function "if"' },
    { desc: 'wrong argument count', source: '{{ normalize .Name .ContainerName }}', message: 'function "normalize" takes 1 argument(s), got 2' },
    { desc: 'unclosed action', source: 'Host(`{{ .Name `)', message: 'unclosed action' },
    { desc: 'unbalanced parenthesis', source: '{{ normalize (.Name }}', message: 'missing ")"' },
    { desc: 'empty action', source: '{{ }}', message: 'empty action' },
    { desc: 'unterminated string', source: '{{ index .Labels "x }}', message: 'unclosed action' },
  ];
  for (const testCase of cases) {
    it(testCase.desc, () => {
      expect(() => parseRuleTemplate(testCase.source)).toThrow(TemplateError);
      expect(() => parseRuleTemplate(testCase.source)).toThrow(testCase.message);
    });
  }

  it('printing the label map fails at render', () => {
    const template = parseRuleTemplate('{{ .Labels }}');
    expect(() => template.render(model)).toThrow('prints .Labels');
  });

  it('normalize of the label map fails at render', () => {
    const template = parseRuleTemplate('{{ normalize .Labels }}');
    expect(() => template.render(model)).toThrow('function "normalize" expects a string');
  });
});
