// The SOC 2 controls Gatehouse can evidence, mapped to other frameworks, with an owner and the
// automated checks that test each one (checks.ts). Pure data.

export type Control = {
  id: string;
  title: string;
  owner: string;
  /** ISO/IEC 27001:2022 Annex A, NIST SP 800-53 rev. 5, HIPAA 164.312, GDPR Article 32 (where it applies). */
  mappings: { iso27001: string[]; nist80053: string[]; hipaa: string[]; gdpr: string[] };
};

export const CONTROLS: readonly Control[] = [
  { id: "CC6.1", title: "Logical access: authentication and credentials", owner: "Identity team", mappings: { iso27001: ["A.5.17", "A.8.5", "A.8.24"], nist80053: ["IA-2", "IA-5", "SC-12"], hipaa: ["164.312(d)"], gdpr: ["32(1)(b)"] } },
  { id: "CC6.2", title: "Provisioning and removal of access", owner: "Identity team", mappings: { iso27001: ["A.5.16", "A.5.18"], nist80053: ["AC-2"], hipaa: ["164.312(a)(1)"], gdpr: ["32(1)(b)"] } },
  { id: "CC6.3", title: "Least privilege for roles and clients", owner: "Security engineering", mappings: { iso27001: ["A.5.15", "A.8.2"], nist80053: ["AC-6"], hipaa: ["164.312(a)(1)"], gdpr: ["25(2)"] } },
  { id: "CC6.6", title: "Protection against threats from outside the system boundary", owner: "Security engineering", mappings: { iso27001: ["A.8.20", "A.8.21"], nist80053: ["SC-7", "SC-8"], hipaa: ["164.312(e)(1)"], gdpr: ["32(1)(b)"] } },
  { id: "CC6.7", title: "Protection of data in transit and at rest", owner: "Security engineering", mappings: { iso27001: ["A.8.24"], nist80053: ["SC-13", "SC-28"], hipaa: ["164.312(a)(2)(iv)", "164.312(e)(2)(ii)"], gdpr: ["32(1)(a)"] } },
  { id: "CC6.8", title: "Prevention of unauthorized or malicious software", owner: "Platform team", mappings: { iso27001: ["A.8.7", "A.8.19"], nist80053: ["SI-3", "CM-7"], hipaa: ["164.308(a)(5)(ii)(B)"], gdpr: [] } },
  { id: "CC7.2", title: "Monitoring of system components for anomalies", owner: "Security operations", mappings: { iso27001: ["A.8.15", "A.8.16"], nist80053: ["AU-6", "AU-9", "SI-4"], hipaa: ["164.312(b)", "164.312(c)(1)"], gdpr: ["32(1)(d)"] } },
  { id: "CC7.3", title: "Evaluation of security events", owner: "Security operations", mappings: { iso27001: ["A.5.25"], nist80053: ["IR-4", "IR-5"], hipaa: ["164.308(a)(6)(ii)"], gdpr: ["33"] } },
  { id: "CC7.4", title: "Response to security incidents", owner: "Security operations", mappings: { iso27001: ["A.5.26"], nist80053: ["IR-4", "IR-6"], hipaa: ["164.308(a)(6)(ii)"], gdpr: ["33", "34"] } },
  { id: "CC8.1", title: "Change management", owner: "Platform team", mappings: { iso27001: ["A.8.32"], nist80053: ["CM-3", "CM-5"], hipaa: [], gdpr: ["32(1)(d)"] } },
];

export const CONTROL_IDS = CONTROLS.map((c) => c.id);

/** How a control's status or a test's result reads, on pages and in reports. */
export const STATUS_LABELS = { pass: "Pass", fail: "Fail", error: "Error", excepted: "Excepted", not_tested: "Not tested" } as const;
/** How a pass reads when its tests had nothing to look at (no analyst, no client): not evidence that the control works. */
export const NOTHING_TO_CHECK_LABEL = "Pass — nothing to check";
